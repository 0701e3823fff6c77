import { Client } from 'pg';
it('connects', async () => {
  const c = new Client({ connectionString: process.env.LEASEHOLD_TEST_PG_URL });
  await c.connect();
  const r = await c.query('select version()');
  console.log(r.rows[0]);
  await c.end();
});
