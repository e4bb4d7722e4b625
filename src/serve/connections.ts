/**
 * The server's connections, tracked for what node:http leaves open: a connection that never sends
 * a byte is subject to none of node's timeouts, and `http.Server.close()` destroys connections that
 * were accepted but whose request node has not read yet (it counts them idle), so a client that
 * connected just before a shutdown gets a reset instead of an answer.
 *
 * Shutdown here follows Go's `http.Server.Shutdown`: close connections idle between requests, let
 * connections that are sending a request finish sending it (the front end answers 503), give
 * connections that have sent nothing yet a short grace, and wait for requests in flight; at the
 * drain limit, whatever is left is answered 503 in the JSON error shape where that is still
 * possible, and cut.
 */
import type * as http from 'node:http';
import type { Socket } from 'node:net';
import type { HttpError } from './http-error';
import { rawErrorResponse } from './http-error';

/**
 * During a shutdown, how long a connection that has sent nothing may wait before it is closed. Go
 * waits 5 s for such connections; a browser's speculative preconnect can sit unused much longer, and
 * a client that connected before the listener closed sends its request within milliseconds.
 */
export const DRAIN_SILENT_GRACE_MS = 1000;

interface Connection {
  socket: Socket;
  /** Requests started on it. */
  requests: number;
  /** The response of the request being handled. */
  response?: http.ServerResponse;
  /** `socket.bytesRead` when it last became idle: more since then means a request is arriving. */
  bytesAtIdle: number;
  timer?: NodeJS.Timeout;
}

/** Tracks a server's connections; see the file comment. */
export class Connections {
  private readonly open = new Map<Socket, Connection>();
  private draining = false;
  private acceptedCount = 0;
  private emptied: (() => void) | undefined;

  /** @param silentTimeoutMs - a connection that sends nothing for this long after connecting is closed */
  constructor(
    server: http.Server,
    private readonly silentTimeoutMs: number,
  ) {
    server.on('connection', (socket: Socket) => {
      this.acceptedCount++;
      const connection: Connection = { socket, requests: 0, bytesAtIdle: 0 };
      this.open.set(socket, connection);
      this.closeIfSilent(connection, this.draining ? Math.min(DRAIN_SILENT_GRACE_MS, silentTimeoutMs) : silentTimeoutMs);
      socket.once('close', () => {
        clearTimeout(connection.timer);
        this.open.delete(socket);
        if (this.open.size === 0) this.emptied?.();
      });
    });
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const connection = this.open.get(req.socket as Socket);
      if (!connection) return;
      clearTimeout(connection.timer);
      connection.requests++;
      connection.response = res;
      res.once('close', () => {
        if (connection.response !== res) return;
        connection.response = undefined;
        connection.bytesAtIdle = connection.socket.bytesRead;
      });
    };
    // node:http emits one of these three for each request, depending on its Expect header.
    for (const event of ['request', 'checkContinue', 'checkExpectation']) server.on(event, onRequest);
  }

  /** Connections accepted since the start. */
  get accepted(): number {
    return this.acceptedCount;
  }

  /** Open connections. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Start a shutdown: close connections idle between requests now, give those that have sent
   * nothing {@link DRAIN_SILENT_GRACE_MS}, leave the rest to finish (their answers carry
   * `Connection: close`, so node:http closes them after).
   */
  drain(): void {
    this.draining = true;
    for (const connection of this.open.values()) {
      if (connection.response || connection.socket.bytesRead > connection.bytesAtIdle) continue;
      if (connection.requests > 0) connection.socket.destroy();
      else this.closeIfSilent(connection, Math.min(DRAIN_SILENT_GRACE_MS, this.silentTimeoutMs));
    }
  }

  /** Resolves once every connection is closed. */
  whenClosed(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.emptied;
      this.emptied = () => {
        previous?.();
        resolve();
      };
    });
  }

  /**
   * At the drain limit: answer `error` (a 503) to every request not yet answered, and to every
   * connection in the middle of sending one; cut the rest (responses already streaming, silent
   * connections).
   */
  cut(error: HttpError): void {
    const body = JSON.stringify(error);
    for (const { socket, response, bytesAtIdle } of this.open.values()) {
      if (response && !response.headersSent && !response.destroyed) {
        response.writeHead(error.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' });
        response.end(body);
      } else if (!response && socket.bytesRead > bytesAtIdle && socket.writable) {
        socket.end(rawErrorResponse(error));
      } else {
        socket.destroy();
      }
    }
  }

  /** Destroy every connection. */
  destroyAll(): void {
    for (const socket of this.open.keys()) socket.destroy();
  }

  private closeIfSilent(connection: Connection, ms: number): void {
    clearTimeout(connection.timer);
    connection.timer = setTimeout(() => {
      if (!connection.response && connection.requests === 0 && connection.socket.bytesRead === 0) connection.socket.destroy();
    }, ms);
    connection.timer.unref();
  }
}
