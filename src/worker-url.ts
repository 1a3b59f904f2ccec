/**
 * The URL of a worker thread's module beside `metaUrl` (the caller's `import.meta.url`). Run from
 * source (tests under tsx), a worker cannot load .ts on Node 20, so the built copy in dist/ is used.
 */
export function workerUrl(metaUrl: string, file: string): URL {
  const url = new URL(file, metaUrl);
  if (!metaUrl.endsWith('.ts')) return url;
  const i = url.pathname.lastIndexOf('/src/');
  return new URL(`${url.pathname.slice(0, i)}/dist/${url.pathname.slice(i + 5)}`, url);
}
