// Loader hooks for import-trace.mjs: record each resolved module URL.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.IMPORT_TRACE) appendFileSync(process.env.IMPORT_TRACE, `${r.url}\n`);
  return r;
}
