import type { z } from 'zod';

/**
 * One management API operation as the OpenAPI document describes it. Routes declare these next to the
 * zod schemas they validate with, so the document is generated from the same schemas, never written twice.
 */
export interface ManagementOperation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The express path, e.g. `/api/conversations/:conversationIdentifier`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The request body is a file's bytes, of any type. */
  rawBody?: boolean;
  /** Status code → what that answer means; bodies of 4xx answers are the `{code, message}` error. */
  responses: Record<number, string>;
  /** The success answer's media type when it is not JSON (a file, an event stream). */
  produces?: string;
  /** Open without the admin key. */
  public?: boolean;
}
