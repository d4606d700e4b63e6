// Serving a hono app on a local port, shared by the dashboard and the explorer: listen errors become
// messages naming the address, and close() does not wait for idle keep-alive sockets or open streams.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Hono, MiddlewareHandler } from 'hono';
import { createAdaptorServer } from '@hono/node-server';

export interface Served { url: string; close: () => Promise<void> }

export async function serve(app: Hono, host: string, port: number, opts: { onClose?: () => void; signal?: AbortSignal } = {}): Promise<Served> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((res, rej) => {
    server.once('error', (e: NodeJS.ErrnoException) => rej(new Error(`cannot listen on ${host}:${port}: ${e.code ?? e.message}` +
      (e.code === 'EADDRINUSE' ? ' (the port is taken; choose another with --port)' : ''))));
    server.listen(port, host, () => res());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/`;
  let closed: Promise<void> | null = null;
  const close = () => closed ??= new Promise<void>((res) => {
    opts.onClose?.();
    server.close(() => res());
    // Event streams stay open until their loop notices; idle keep-alive sockets would hold close() up.
    setTimeout(() => server.closeAllConnections(), 100).unref();
  });
  opts.signal?.addEventListener('abort', () => void close(), { once: true });
  if (opts.signal?.aborted) await close();
  return { url, close };
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
export const isLoopback = (host: string): boolean => LOOPBACK_NAMES.has(host) || host.startsWith('127.');

/**
 * Middleware of a read-only local server: GET and HEAD only, and, when bound to loopback, requests
 * whose Host is not local are refused (a page elsewhere must not reach it through a DNS name that
 * points at 127.0.0.1).
 */
export function readOnlyLocal(what: string, checkHost: boolean): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return c.text(`the ${what} is read-only`, 405);
    if (checkHost) {
      const host = (c.req.header('host') ?? '').replace(/:\d+$/, '').toLowerCase();
      if (!isLoopback(host)) return c.text(`host ${host} refused`, 403);
    }
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
  };
}
