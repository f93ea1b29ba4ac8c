/**
 * Every limit the API server puts on a client, in one place, each with why it has its value
 * (kube-apiserver's are named where Berth follows them). README.md lists them for operators.
 */

/** Request body size; past it 413 RequestEntityTooLarge. Kubernetes' MaxRequestBodyBytes (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * Nesting depth of a decoded body (objects and arrays); past it 400. Go's JSON decoder, which
 * Kubernetes uses, allows 10,000 levels, but Berth's object code (deep equality, structuredClone,
 * the patch mergers) is recursive and overflows the stack near 1,200 levels (measured, Node 20,
 * default stack). Served kinds nest fewer than 20 levels; 100 leaves a wide margin both ways.
 */
export const MAX_NESTING_DEPTH = 100;

/**
 * Request line plus headers; past it Node answers 431. Twice Node's 16 KiB default, for long
 * label/field selectors and bearer tokens; kube-apiserver allows 1 MiB (Go's default), which would
 * let each of thousands of connections hold a megabyte before its request is even read.
 */
export const MAX_HEADER_BYTES = 32 * 1024;

/** Time to receive the headers; kube-apiserver's ReadHeaderTimeout is 32 s. */
export const HEADERS_TIMEOUT_MS = 32_000;

/**
 * Time to receive a whole request, body included — a client trickling its body is cut off with a
 * 408. Kubernetes bounds a request by its 60 s --request-timeout; 3 MiB arrives well within it.
 * Upgraded streams and long responses (watch, logs) are not affected: their request is complete.
 * Node checks it every 30 s (connectionsCheckingInterval), so a trickle ends within 60–90 s.
 */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * An idle keep-alive connection is closed after this. Longer than the 60 s idle timeout most
 * clients and proxies use, so the client closes first and never sends on a connection the server
 * is closing. No cap on requests per connection: an HTTP/1.1 client holds its own connections.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Concurrent watches of one client (user and remote address); past it 429 TooManyRequests with
 * Retry-After, as kube-apiserver's max-in-flight filter answers. A watch that stops reading may
 * hold up to its 16 MiB buffer (watch-stream.ts), so this bounds one client's memory too. The
 * largest legitimate user measured is the `watch` benchmark's 100 watchers from one address.
 */
export const MAX_WATCHES_PER_CLIENT = 250;
