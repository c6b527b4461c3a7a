// Prints the management API's admin key (ADMIN_KEY, or the one generated into DATA_DIR).
import { resolveAdminKey } from '../src/auth/admin-key.ts';
import { loadConfig } from '../src/config.ts';

const config = loadConfig();
console.log(resolveAdminKey({ adminKey: config.adminKey, dataDir: config.dataDir }).key);
