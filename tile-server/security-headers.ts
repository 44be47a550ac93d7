// Security headers on every response (issue 9 item 2: "security headers (CSP that still lets the map run)").
// The policy is the narrowest that the app was seen to run under in Chromium (test/security-headers.test.ts
// loads the 2D map and the 3D globe and fails on any `securitypolicyviolation`):
//   script-src 'self' 'wasm-unsafe-eval'  our bundles only; WebAssembly compilation (Cesium's draco/basis decoders,
//                                          loaders.gl) without allowing JS eval (CSP3 §6.7.2.5)
//   worker-src 'self' blob:               Cesium's workers (from /cesium/Workers, some wrapped in blob: URLs), the service worker
//   connect-src 'self'                    fetch/XHR and the same-origin WebSocket /ws (CSP3 'self' matches ws: of our own host)
//   img-src 'self' data: blob:            canvas-made images, Cesium's inline icons
//   style-src 'self' 'unsafe-inline'      Cesium's widgets and Vue's scoped styles set style attributes/elements;
//                                          styles cannot run code, and script-src stays strict
//   font-src 'self' data:                 no web fonts from elsewhere (the product never leaves 127.0.0.1)
//   object-src 'none', base-uri 'self', form-action 'self', frame-ancestors 'none' (no clickjacking; X-Frame-Options for old browsers)
// `frame-ancestors` only works as a header, never in a <meta> tag, which is why this is a header.
import type { ServerResponse } from 'node:http';

export const CSP_DIRECTIVES: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'script-src': "'self' 'wasm-unsafe-eval'",
  'worker-src': "'self' blob:",
  'child-src': "'self' blob:",
  'connect-src': "'self'",
  'img-src': "'self' data: blob:",
  'style-src': "'self' 'unsafe-inline'",
  'font-src': "'self' data:",
  'media-src': "'self' blob:",
  'manifest-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'self'",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
};

export function contentSecurityPolicy(directives: Readonly<Record<string, string>> = CSP_DIRECTIVES): string {
  return Object.entries(directives).map(([k, v]) => `${k} ${v}`).join('; ');
}

/** The headers every response carries. Geolocation and camera stay allowed for our own origin (the phone view reports with both). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': contentSecurityPolicy(),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'X-Frame-Options': 'DENY',
  'Permissions-Policy': 'geolocation=(self), camera=(self), microphone=(), payment=(), usb=()',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Sets the security headers on `res` before a handler writes its head (writeHead merges them in). */
export function applySecurityHeaders(res: ServerResponse, https = false): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  // HSTS only over TLS (RFC 6797 §7.2: a UA ignores it over plain HTTP, and a test server has no TLS).
  if (https) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
}
