import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { FieldError, FormErrors } from "./ErrorMessages";
import { TextField } from "./TextField";

describe("FieldError", () => {
  it("renders nothing without messages", () => {
    const { container } = render(<FieldError id="e" messages={[]} />);
    expect(container).toBeEmptyDOMElement();
  });

  it("renders every message under the given id", () => {
    render(<FieldError id="field-email-error" messages={["Email must be valid", "Email is too long"]} />);
    const box = document.getElementById("field-email-error");
    expect(box).toHaveTextContent("Email must be valid");
    expect(box).toHaveTextContent("Email is too long");
  });
});

describe("FormErrors", () => {
  it("renders nothing without errors", () => {
    const { container } = render(<FormErrors errors={[]} />);
    expect(container).toBeEmptyDOMElement();
  });

  it("announces one error as a sentence", () => {
    render(<FormErrors errors={[{ message: "Invalid credentials" }]} />);
    expect(screen.getByRole("alert")).toHaveTextContent("Invalid credentials");
    expect(screen.queryByRole("list")).not.toBeInTheDocument();
  });

  it("lists several errors", () => {
    render(<FormErrors errors={[{ message: "A" }, { message: "B" }]} />);
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["A", "B"]);
  });
});

describe("TextField", () => {
  it("ties its label, hint and errors to the input", () => {
    render(<TextField name="price" label="Price" hint="In dollars." value="" onChange={() => {}} errors={["Price must be greater than 0"]} />);
    const input = screen.getByLabelText("Price");
    expect(input).toBeInvalid();
    expect(input).toHaveAccessibleDescription("In dollars. Price must be greater than 0");
  });

  it("is not marked invalid without errors", () => {
    render(<TextField name="title" label="Title" value="x" onChange={() => {}} errors={[]} />);
    const input = screen.getByLabelText("Title");
    expect(input).not.toHaveAttribute("aria-invalid");
    expect(input).not.toHaveAttribute("aria-describedby");
  });
});
