import Link from "next/link";
import { Logo } from "./components/ui/Logo";

export default function NotFound() {
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center gap-4 p-8 text-center">
      <Logo size={40} />
      <h1 className="text-xl font-semibold">Nothing here · 这里什么都没有</h1>
      <p className="text-muted">That page or lesson does not exist. · 该页面或课程不存在。</p>
      <Link href="/" className="btn-primary">
        Lessons · 课程
      </Link>
    </main>
  );
}
