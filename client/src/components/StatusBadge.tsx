import type { StatusView } from "@/lib/status";

export function StatusBadge({ view, status }: { view: StatusView; status: string }) {
  return (
    <span className={`badge badge-${view.tone}`} data-status={status}>
      {view.label}
    </span>
  );
}
