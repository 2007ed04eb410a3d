import Link from "next/link";

export const metadata = { title: "Not found" };

export default function NotFound() {
  return (
    <div className="message-page">
      <p className="message-code">404</p>
      <h1>We can&rsquo;t find that page</h1>
      <p>The ticket or order may have been removed, or the link is mistyped.</p>
      <p>
        <Link href="/" className="button">
          Browse tickets
        </Link>
      </p>
    </div>
  );
}
