// Scenario `database`: placeholder until the database engine lands (see the stub below).
import type { Scenario } from './scenario';

export const databaseScenario: Scenario = {
  name: 'database',
  summary: 'GET database/creds/<role> vs raw CREATE ROLE ... VALID UNTIL + GRANT through pg',
  async run() {
    return [{ scenario: 'database', measurement: 'dynamic PostgreSQL credentials', note: 'skipped: database engine not yet available' }];
  },
};
