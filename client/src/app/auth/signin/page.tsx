import { redirect } from "next/navigation";
import { AuthForm } from "@/components/AuthForm";
import { getCurrentUser } from "@/lib/api-server";
import { safeNext } from "@/lib/paths";

export const metadata = { title: "Sign in" };

type Props = { searchParams: Promise<{ next?: string | string[] }> };

export default async function SignInPage({ searchParams }: Props) {
  const next = safeNext((await searchParams).next);
  if (await getCurrentUser()) redirect(next);
  return (
    <section className="narrow">
      <h1>Sign in</h1>
      {next !== "/" ? <p className="lead">Sign in to continue.</p> : null}
      <AuthForm mode="signin" next={next} />
    </section>
  );
}
