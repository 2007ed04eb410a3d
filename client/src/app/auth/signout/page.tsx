import { SignOut } from "@/components/SignOut";

export const metadata = { title: "Sign out" };

export default function SignOutPage() {
  return (
    <section className="narrow">
      <h1>Sign out</h1>
      <SignOut />
    </section>
  );
}
