/**
 * The CLI declares its commands from src/commands/command-table.ts and imports a command's module only
 * when the command is named (issue 25: start-up cost). --help lists the table's usage and description
 * for commands not loaded, and the module's own once loaded: they must be the same words.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LAZY_COMMANDS } from '../../src/commands/command-table.js';

test('command table: each loads, and a whole command module says what the table says', async () => {
  const names = new Set<string>();
  for (const c of LAZY_COMMANDS) {
    assert.not.ok(names.has(c.name), `${c.name} twice`);
    names.add(c.name);
    assert.is(c.command.split(' ')[0], c.name, `${c.name}: the usage starts with the name`);
    const m = await c.load();
    if (typeof m === 'function') continue; // a group: the table is the only place its description lives
    assert.is(m.command, c.command, `${c.name}: usage`);
    assert.is(m.describe, c.describe, `${c.name}: description`);
  }
  assert.ok(names.has('report') && names.has('exception'));
});

test.run();
