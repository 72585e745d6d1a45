/**
 * The part of Node's `http.IncomingMessage` the handler reads (typed by shape, so that the entry
 * needs no Node types to build).
 */
export interface NodeRequestLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The part of Node's `http.ServerResponse` the handler writes to. */
export interface NodeResponseLike {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  readonly destroyed?: boolean;
}

/**
 * Writes a web `Response` to a Node `ServerResponse`, reading its body only as the socket takes
 * it: after a `write` that returns `false` (the socket's buffer is full), the next chunk is read
 * once the socket emits `drain`. The body is cancelled when the connection closes first, which
 * unsubscribes what feeds it. Resolves when the body is done or cancelled.
 */
export async function sendResponse(response: Response, res: NodeResponseLike): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  const body = response.body;
  if (body === null) {
    res.end();
    return;
  }
  const reader = body.getReader();
  let gone = false;
  let wake: (() => void) | undefined;
  res.once('close', () => {
    gone = true;
    reader.cancel().catch(() => {});
    wake?.();
  });
  try {
    while (!gone) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      if (!res.write(value) && !gone) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          res.once('drain', resolve);
        });
        wake = undefined;
      }
    }
  } catch {
    // The body errored (its subscription failed): ending the response makes the client retry.
  }
  if (!gone && res.destroyed !== true) res.end();
}
