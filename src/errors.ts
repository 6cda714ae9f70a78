// One error hierarchy: mapped once to HTTP (app.ts onError) and once to exit codes (cli).
export type FieldError = { path: string; message: string };

export class AppError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = "error",
    readonly exitCode = 1,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }
}

export class BadRequest extends AppError {
  constructor(message = "Malformed request body.") { super(400, message, "bad_request", 2); }
}
export class Unauthorized extends AppError {
  constructor(message = "Authentication required.") { super(401, message, "unauthorized", 3); }
}
export class Forbidden extends AppError {
  constructor(message = "You are not allowed to do this.") { super(403, message, "forbidden", 3); }
}
export class NotFound extends AppError {
  constructor(what = "Resource") { super(404, `${what} not found.`, "not_found", 4); }
}
export class Conflict extends AppError {
  constructor(message: string) { super(409, message, "conflict", 5); }
}
export class PayloadTooLarge extends AppError {
  constructor(message = "Request body too large.") { super(413, message, "too_large", 2); }
}
export class Unprocessable extends AppError {
  constructor(message: string, errors?: FieldError[]) { super(422, message, "validation", 2, errors); }
}
export class TooManyRequests extends AppError {
  constructor(message = "Too many attempts; try again later.") { super(429, message, "rate_limited", 6); }
}

/** Validation failure on one field, worded the same way as body validation errors. */
export function invalidField(path: string, message: string): Unprocessable {
  return new Unprocessable(`${path}: ${message}`, [{ path, message }]);
}
