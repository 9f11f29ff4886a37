import assert from "node:assert/strict";
import { test } from "node:test";
import { CLOSE } from "../../lib/protocol.ts";
import { CapacityError, LabGoneError } from "../labs/errors.ts";
import { TooManyTerminalsError } from "../terminals/errors.ts";
import { LabBusyError } from "../lessons/labqueue.ts";
import { NoSuchScriptError } from "../lessons/runner.ts";
import { HttpError, socketEnding, toHttpError } from "./errors.ts";

test("each domain error has one HTTP answer", () => {
  const http = (e: unknown) => {
    const h = toHttpError(e);
    return h && [h.status, h.code, h.headers["retry-after"] ?? null];
  };
  assert.deepEqual(http(new CapacityError("full", false)), [429, "rate_limited", "60"]);
  assert.deepEqual(http(new LabGoneError()), [409, "lab_gone", null]);
  assert.deepEqual(http(new NoSuchScriptError("no_solution", "none")), [404, "no_solution", null]);
  assert.deepEqual(http(new LabBusyError()), [429, "busy", "2"]);
  const own = new HttpError(418, "bad_request", "teapot");
  assert.equal(toHttpError(own), own);
  assert.equal(toHttpError(new Error("unexpected")), null, "anything else is a 500");
  assert.equal(toHttpError("a string"), null);
});

test("and, where a socket can meet it, one ending", () => {
  assert.deepEqual(socketEnding(new LabGoneError()), {
    last: { type: "closed", reason: "lab-destroyed", message: "The lab is not running any more." },
    close: CLOSE.LAB_GONE,
    reason: "lab gone",
  });
  const many = socketEnding(new TooManyTerminalsError(8))!;
  assert.deepEqual([many.last.type, many.close], ["error", CLOSE.TOO_MANY_TERMINALS]);
  assert.equal(socketEnding(new Error("unexpected")), null);
});
