// rxjs-backpressure/node: the sinks that need Node's own APIs (its http server). The web-standard
// sinks (Web Streams, WebSocket, Server-Sent Events as a web Response) are in the root entry.

export {
  type NodeRequestLike,
  type NodeResponseLike,
  sendResponse,
} from './sendResponse.js';
export { serverSentEventsHandler } from './serverSentEventsHandler.js';
