// Serving a hono app on a local port, shared by the dashboard and the explorer: listen errors become
// messages naming the address, and close() does not wait for idle keep-alive sockets or open streams.
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
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
/** Whether a --host value binds loopback only (127.0.0.0/8, ::1, localhost). */
export const isLoopback = (host: string): boolean => LOOPBACK_NAMES.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** The host part of a Host header (lower case, IPv6 in brackets, port dropped); null when malformed. */
export function hostOfHeader(header: string): string | null {
  const h = header.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(h);
  return m ? m[1]! : null;
}

/**
 * The names a request's Host may carry: the loopback names, plus, for a server bound elsewhere (only
 * with --allow-remote), the bound address, or for a wildcard bind this machine's name and addresses.
 * Anything else (a DNS name that merely resolves to 127.0.0.1, like 127.attacker.example) is refused:
 * that is how a page elsewhere would reach the server (DNS rebinding).
 */
export function allowedHosts(bound: string): Set<string> {
  const out = new Set(['localhost', '127.0.0.1', '[::1]']);
  const b = bound.toLowerCase();
  if (WILDCARD.has(b)) {
    out.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) out.add(a.family === 'IPv6' ? `[${a.address.replace(/%.*$/, '')}]` : a.address);
    }
  } else {
    out.add(b.includes(':') && !b.startsWith('[') ? `[${b}]` : b);
  }
  return out;
}

/**
 * The check of --host: loopback, or another address only with allowRemote (the caller warns that the
 * page is then shared with the network). Throws naming the flags.
 */
export function checkBind(host: string, allowRemote: boolean | undefined, what: string): { shared: boolean } {
  if (isLoopback(host)) return { shared: false };
  if (!allowRemote) {
    throw new Error(`--host ${host} would share the ${what} with every machine that can reach this one (it has no login); ` +
      'add --allow-remote to do so, or leave --host at 127.0.0.1');
  }
  return { shared: true };
}

/**
 * Middleware of a read-only local server: GET and HEAD only, and requests whose Host header is not one
 * of `allowed` (allowedHosts) are refused with 403.
 */
export function readOnlyLocal(what: string, allowed: Set<string>): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return c.text(`the ${what} is read-only`, 405);
    const host = hostOfHeader(c.req.header('host') ?? '');
    if (!host || !allowed.has(host)) return c.text(`host ${host ?? '(malformed)'} refused`, 403);
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
  };
}
