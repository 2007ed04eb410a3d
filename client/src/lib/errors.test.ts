import { describe, expect, it } from "vitest";
import { generalErrors, messagesFor, toApiErrors } from "./errors";

describe("toApiErrors", () => {
  it.each([
    {
      name: "keeps the contract's errors, with and without field",
      status: 400,
      body: { errors: [{ message: "Email must be valid", field: "email" }, { message: "Email in use" }] },
      want: [{ message: "Email must be valid", field: "email" }, { message: "Email in use" }],
    },
    {
      name: "drops entries without a message and empty fields",
      status: 400,
      body: { errors: [{ field: "email" }, "oops", null, { message: "Title is required", field: "" }] },
      want: [{ message: "Title is required" }],
    },
    {
      name: "an empty list still says something",
      status: 400,
      body: { errors: [] },
      want: [{ message: "Something went wrong. Please try again." }],
    },
    {
      name: "a proxy's HTML answer for a service that is down",
      status: 502,
      body: null,
      want: [{ message: "The service is not available right now. Please try again in a moment." }],
    },
    {
      name: "no answer at all",
      status: 0,
      body: null,
      want: [{ message: "Could not reach the server. Check your connection and try again." }],
    },
    {
      name: "an unknown shape",
      status: 500,
      body: { error: "x" },
      want: [{ message: "Something went wrong. Please try again." }],
    },
  ])("$name", ({ status, body, want }) => {
    expect(toApiErrors(status, body)).toEqual(want);
  });
});

describe("messagesFor and generalErrors", () => {
  const errors = [
    { message: "Email must be valid", field: "email" },
    { message: "Password must be between 4 and 20 characters", field: "password" },
    { message: "Too many attempts, try again later" },
    { message: "Something about a field the form lacks", field: "captcha" },
  ];

  it("picks one field's messages", () => {
    expect(messagesFor(errors, "email")).toEqual(["Email must be valid"]);
    expect(messagesFor(errors, "title")).toEqual([]);
  });

  it("keeps every message the form's fields do not show", () => {
    expect(generalErrors(errors, ["email", "password"]).map((e) => e.message)).toEqual([
      "Too many attempts, try again later",
      "Something about a field the form lacks",
    ]);
  });
});
