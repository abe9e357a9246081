import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKER_V8_FLAGS } from '../../src/worker-settings';

const root = join(__dirname, '..', '..');

/** V8 takes these flags only on node's command line: every way the worker is started must pass them. */
describe('every way the worker is started runs it with the worker V8 flags', () => {
  test('the image entrypoint', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(entrypoint!)).toEqual(['node', ...WORKER_V8_FLAGS, 'bin/audit-spike.js']);
  });

  test('npm start (the dev stack runs the worker in its process) and npm run worker', () => {
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toContain(`node ${WORKER_V8_FLAGS.join(' ')} dist/sim/dev-stack.js`);
    expect(scripts.worker).toBe(`node ${WORKER_V8_FLAGS.join(' ')} dist/src/worker.js`);
  });
});
