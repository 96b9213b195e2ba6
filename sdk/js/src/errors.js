// Typed errors: every refusal the host can give, as a JavaScript error.
// A consent refusal is `NotGranted` (with the data type and the reason), so
// a plugin tells the user what to grant instead of treating it as "no data".

/** Any error the host returned. */
export class HealthplugError extends Error {
  constructor(message, name = "HealthplugError") {
    super(message);
    this.name = name;
  }
}

/** The user's consent does not cover this access. */
export class NotGranted extends HealthplugError {
  /**
   * @param {string} dataType the type refused (`"body-mass"`)
   * @param {string} reason why (`"not-granted"`, `"revoked"`, ...)
   */
  constructor(dataType, reason) {
    super(`${dataType} not granted (${reason})`, "NotGranted");
    this.dataType = dataType;
    this.reason = reason;
  }
}

/** `storage` or `network` is not granted, or was revoked. */
export class CapabilityNotGranted extends HealthplugError {
  constructor(message) {
    super(message, "CapabilityNotGranted");
  }
}

/** The request is malformed (bad time range, coded type aggregated, ...). */
export class InvalidRequest extends HealthplugError {
  constructor(message) {
    super(message, "InvalidRequest");
  }
}

/** A per-invocation limit was reached (host calls, samples, bytes). */
export class LimitExceeded extends HealthplugError {
  constructor(message) {
    super(message, "LimitExceeded");
  }
}

/** The host could not serve the request right now. */
export class Unavailable extends HealthplugError {
  constructor(message) {
    super(message, "Unavailable");
  }
}

/** A tool's arguments do not match its parameters (`invalid-args`). */
export class InvalidArgs extends Error {
  constructor(message) {
    super(message);
    this.name = "InvalidArgs";
  }
}

/** The error for a WIT `error` value (`{ tag, val }`). */
export function fromWit(err) {
  switch (err?.tag) {
    case "not-granted":
      return new NotGranted(err.val.dataType, err.val.reason);
    case "capability-not-granted":
      return new CapabilityNotGranted(err.val);
    case "invalid-request":
      return new InvalidRequest(err.val);
    case "limit-exceeded":
      return new LimitExceeded(err.val);
    default:
      return new Unavailable(String(err?.val ?? err));
  }
}

/**
 * Calls a WIT import. componentize-js throws a `result`'s `err` as an error
 * whose `payload` is the WIT value: it becomes the typed error here.
 */
export function call(fn, ...args) {
  try {
    return fn(...args);
  } catch (e) {
    if (e !== null && typeof e === "object" && Object.hasOwn(e, "payload")) {
      throw fromWit(e.payload);
    }
    throw e;
  }
}
