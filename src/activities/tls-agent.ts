import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { needsAttention } from './failures';

const agents = new Map<string, Agent>();

/** An HTTPS agent that trusts the public roots plus the CA in `caFile` (a private PagerDuty proxy or the local simulator). */
export function agentTrusting(caFile: string | undefined): Agent | undefined {
  if (!caFile) return undefined;
  let agent = agents.get(caFile);
  if (!agent) {
    let pem: string;
    try {
      pem = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw needsAttention('BadConfig', `pagerduty.caFile ${caFile} cannot be read (${(error as NodeJS.ErrnoException).code}); give the path of a PEM CA certificate`);
    }
    agent = new Agent({ ca: [...rootCertificates, pem], keepAlive: true });
    agents.set(caFile, agent);
  }
  return agent;
}
