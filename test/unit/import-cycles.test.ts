import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');

function cruise(...paths: string[]) {
  return spawnSync(depcruise, [...paths, '--config', '.dependency-cruiser.cjs'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe('import rules (dependency-cruiser, run by npm test)', () => {
  test('the project has no import cycles and keeps the core pure', () => {
    const run = cruise('src', 'sim', 'bench');
    expect(run.stdout).toContain('no dependency violations found');
    expect(run.status).toBe(0);
  });

  test('a cycle through type-only imports fails, naming the files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cycle-'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'left.ts'), "import type { Right } from './right';\nexport interface Left { right?: Right }\n");
    writeFileSync(join(dir, 'src', 'right.ts'), "import type { Left } from './left';\nexport interface Right { left?: Left }\n");
    const run = cruise(join(dir, 'src'));
    expect(run.status).not.toBe(0);
    expect(run.stdout).toContain('no-circular');
    expect(run.stdout).toMatch(/left\.ts[\s\S]*right\.ts/);
  });
});
