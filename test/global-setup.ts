// Placeholder for suite-wide setup (the PostgreSQL cluster joins here with the database engine).
export default async function globalSetup(): Promise<void> {}
