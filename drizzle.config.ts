import { defineConfig } from 'drizzle-kit';

// Each module keeps its tables beside its code in a file named tables.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/**/tables.ts',
  out: './drizzle',
  dbCredentials: {
    url: process.env.DATABASE_URL ?? 'postgres://postgres:sluice@127.0.0.1:5432/sluice',
  },
});
