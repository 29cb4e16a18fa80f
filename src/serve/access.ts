/**
 * Who may read the live page. With a token, every request needs it: as
 * `Authorization: Bearer <token>`, or as `?token=` once (the answer then sets an
 * HttpOnly cookie and sends the browser to the same address without it, so the token
 * does not stay in the address bar or the history), then the cookie. On loopback the
 * Host header must name loopback too: a web page elsewhere that points its own host
 * name at 127.0.0.1 (DNS rebinding) would otherwise read the run through the browser.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';

export interface Access {
  readonly token?: string | undefined;
  /** The address the server listens on. */
  readonly host: string;
}

const COOKIE = 'unetflow_token';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A response refusing the request, or undefined to let it through. */
export function guardAccess(c: Context, access: Access): Response | undefined {
  if (isLoopback(access.host)) {
    const name = hostName(c.req.header('host') ?? '');
    if (!isLoopback(name)) return c.text('not found\n', 404);
  }
  if (!access.token) return undefined;
  const given = c.req.query('token');
  if (given !== undefined) {
    if (!same(given, access.token)) return c.text('wrong token\n', 401);
    const url = new URL(c.req.url);
    url.searchParams.delete('token');
    c.header('Set-Cookie', `${COOKIE}=${encodeURIComponent(access.token)}; HttpOnly; SameSite=Strict; Path=/`);
    return c.redirect(`${url.pathname}${url.search}`, 303);
  }
  const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
  const cookie = getCookie(c, COOKIE);
  if ((bearer !== undefined && same(bearer, access.token)) || (cookie !== undefined && same(cookie, access.token))) return undefined;
  return c.text('this live page needs its token: open it once with ?token=<token>, or send Authorization: Bearer <token>\n', 401);
}

/** The host part of a Host header: `[::1]:8080` -> `::1`, `localhost:8080` -> `localhost`. */
function hostName(header: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(header);
  if (v6) return v6[1];
  return header.replace(/:\d+$/, '').toLowerCase();
}

/** Compares in time independent of where the strings differ: both are hashed to the same length first. */
function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** A token as it may be printed: its first two characters and its length, never the rest. */
export function maskToken(token: string): string {
  return `${token.slice(0, 2)}… (${token.length} characters)`;
}
