// Cache-busting after an edit (issue8.md, E2): tile and /data URLs carry ?rev=N, which the server
// ignores, so the browser and deck.gl fetch the edited area again instead of reusing what they hold.

/** Sets rev=N on a URL or URL template, keeping {z}/{x}/{y} placeholders and other parameters. */
export function withRevision(url: string, revision: number): string {
  const [path, hash] = url.split('#', 2);
  const clean = path.replace(/([?&])rev=\d+(&|$)/, (_m, a: string, b: string) => (b ? a : '')).replace(/[?&]$/, '');
  return `${clean}${clean.includes('?') ? '&' : '?'}rev=${revision}${hash !== undefined ? `#${hash}` : ''}`;
}
