import {
  type SequencedFrame,
  type SequencedLog,
  type ServerSentEventsConfig,
  serverSentEvents,
} from '../interop/serverSentEvents.js';
import { type NodeRequestLike, type NodeResponseLike, sendResponse } from './sendResponse.js';

/**
 * A Node `http` request handler serving a bus's frames as Server-Sent Events: the web `Response`
 * of `serverSentEvents` written to the `ServerResponse` at the pace the client's socket takes it
 * (a client that stops reading stops its subscription's demand; its queue policy applies). The
 * request's `Last-Event-ID` header resumes a reconnecting client. `filter` may be a function of
 * the request (to read a run id from the URL, say).
 *
 * @example
 * ```ts
 * createServer(serverSentEventsHandler(bus, (req) => ({ runId: runIdOf(req.url) }))).listen(8080);
 * ```
 */
export function serverSentEventsHandler<
  F extends SequencedFrame,
  Filter,
  Req extends NodeRequestLike,
>(
  bus: SequencedLog<F, Filter>,
  filter: Filter | ((request: Req) => Filter),
  options: Omit<ServerSentEventsConfig<F>, 'request' | 'lastEventId'> = {},
): (request: Req, response: NodeResponseLike) => void {
  return (request, response) => {
    const header = request.headers['last-event-id'];
    const lastEventId = Array.isArray(header) ? (header[0] ?? null) : (header ?? null);
    const chosen =
      typeof filter === 'function' ? (filter as (request: Req) => Filter)(request) : filter;
    let sse: Response;
    try {
      sse = serverSentEvents(bus, chosen, { ...options, lastEventId });
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.write(new TextEncoder().encode(String(error)));
      response.end();
      return;
    }
    void sendResponse(sse, response);
  };
}
