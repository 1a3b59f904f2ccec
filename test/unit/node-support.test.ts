/**
 * What the project says it runs on agrees everywhere: package.json engines, the README, the Dockerfile,
 * and the Node majors CI tests on (this file runs in each of them). And the quick start's port is one
 * a desktop does not already hold (5353 is mDNS: avahi).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOT } from '../helpers/daemon-process.js';

const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
/** The majors CI runs the tests on: this machine's (20) and the Docker image's (24). */
const TESTED = [20, 24];

test('Node versions: engines, README, Dockerfile and CI agree', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  assert.is(engines, '>=20.19');
  const readme = read('README.md');
  assert.match(readme, /Supported: \*\*Node 20\.19\+ and 24\*\*/);
  assert.match(readme, /EBADENGINE/, 'the README explains the one npm warning on Node 20');
  const docker = [...read('Dockerfile').matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
  assert.ok(docker.length > 0);
  for (const major of docker) assert.ok(TESTED.includes(major), `the Dockerfile runs Node ${major}, which CI does not test`);
  const ci = read('.ci/run');
  for (const major of TESTED.filter((m) => m !== 20))
    assert.match(ci, new RegExp(`scripts/test-node\\.sh ${major} `), `CI tests on Node ${major}`);
  const running = Number(process.versions.node.split('.')[0]);
  assert.ok(TESTED.includes(running), `this test runs on Node ${running}, which the README does not claim`);
  const [maj, min] = process.versions.node.split('.').map(Number);
  assert.ok(maj > 20 || (maj === 20 && min >= 19), `Node ${process.versions.node} is below engines ${engines}`);
});

test('quick start: one port everywhere, and not one a desktop already holds', () => {
  const example = parseYaml(read('config/example.yaml')) as { server: { listen: string[] } };
  const port = Number(example.server.listen[0].split(':').pop());
  assert.is.not(port, 5353, '5353 is multicast DNS (avahi)');
  const readme = read('README.md');
  const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## How a query is answered'));
  const ports = [...quick.matchAll(/-p (\d+)|127\.0\.0\.1:(\d+) with config\/example/g)].map((m) => Number(m[1] ?? m[2]));
  assert.ok(ports.length >= 3);
  for (const p of ports) assert.is(p, port, 'the README quick start uses the example config’s port');
  assert.match(read('src/cli.ts'), new RegExp(`127\\.0\\.0\\.1:${port} for a try-out`));
  // Not a port /etc/services (Debian netbase) gives to a service.
  const services = readFileSync('/etc/services', 'utf8');
  assert.not.match(services, new RegExp(`\\s${port}/(udp|tcp)`), `port ${port} is a registered service`);
});

test.run();
