import { inFileOrder } from './issues';

/**
 * A configuration a person must fix; the message says where, what was wrong, and what is allowed. Problems that name a
 * line come in the order of the file.
 */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(readonly source: string, problems: string[]) {
    problems = inFileOrder(problems);
    super(`Invalid configuration in ${source}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.problems = problems;
    this.name = 'ConfigError';
  }
}
