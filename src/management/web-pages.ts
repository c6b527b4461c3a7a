import path from 'node:path';
import express, { type Router } from 'express';

const CONSOLE_DIR = path.resolve(import.meta.dirname, '../console');
const SCHEMAS_DIR = path.resolve(import.meta.dirname, '../../schemas');
/** The project's published contract files the docs page shows (schemas/). */
export const PUBLISHED_SCHEMAS = ['normalized-event.schema.json', 'outbound-custom-event.avsc'] as const;

/**
 * The pages of the management port, all from this project (no CDN): the console at `/` and the API docs
 * at `/docs`. They hold no data: the scripts call the management API with the admin key the user signs in
 * with, kept in the tab's sessionStorage.
 */
export function webPages(): Router {
  const router = express.Router();
  router.get('/docs', (_req, res) => {
    res.sendFile(path.join(CONSOLE_DIR, 'docs.html'));
  });
  router.get('/docs/schemas/:file', (req, res, next) => {
    const file = PUBLISHED_SCHEMAS.find((f) => f === req.params.file);
    if (!file) {
      next();
      return;
    }
    res.type('application/json').sendFile(path.join(SCHEMAS_DIR, file));
  });
  router.use(express.static(CONSOLE_DIR, { index: 'index.html', fallthrough: true, dotfiles: 'ignore' }));
  return router;
}
