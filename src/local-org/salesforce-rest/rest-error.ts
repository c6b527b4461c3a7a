/**
 * A refusal in the shape of Salesforce's REST API: an array of `{message, errorCode}` objects, so clients
 * written against a real org (jsforce, simple-salesforce, the BYOC samples) report it as they would there.
 */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }

  body() {
    return [{ message: this.message, errorCode: this.errorCode }];
  }
}
