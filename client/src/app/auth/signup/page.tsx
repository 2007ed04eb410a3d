import { redirect } from "next/navigation";
import { AuthForm } from "@/components/AuthForm";
import { getCurrentUser } from "@/lib/api-server";
import { safeNext } from "@/lib/paths";

export const metadata = { title: "Sign up" };

type Props = { searchParams: Promise<{ next?: string | string[] }> };

export default async function SignUpPage({ searchParams }: Props) {
  const next = safeNext((await searchParams).next);
  if (await getCurrentUser()) redirect(next);
  return (
    <section className="narrow">
      <h1>Create an account</h1>
      <p className="lead">Sell your tickets or buy someone else&rsquo;s.</p>
      <AuthForm mode="signup" next={next} />
    </section>
  );
}
