// `node --import ./test/helpers/import-trace.mjs …`: appends the URL of every module the process
// imports to the file named by $IMPORT_TRACE (the hooks run on Node's loader thread).
import { register } from 'node:module';

register('./import-trace-hooks.mjs', import.meta.url);
