// TEMPORARY sample data for developing the UI before the lesson catalog exists.
import type { LessonView } from "./lesson-view";

const code = (kind: string, text: string, extra = "") =>
  `<pre data-nslab-code data-kind="${kind}"${extra}><code class="language-bash">${text}</code></pre>`;

export const SAMPLE_LESSONS: LessonView[] = [
  {
    id: "containers-are-processes",
    title: "Containers are just processes",
    summary: "Look at a process from inside and outside its namespaces, and see that a container is nothing more.",
    order: 1,
    minutes: 10,
    namespaces: ["pid", "uts", "user"],
    prerequisites: [],
    stepCount: 3,
    lang: "en",
    introHtml:
      "<p>A container is not a virtual machine. It is an ordinary process that the kernel shows a <em>different view</em> of the system: its own process tree, its own hostname, its own users.</p><p>Your lab on the right is exactly that: a shell in fresh namespaces.</p>",
    finishHtml: "<p>You saw that every namespace is a file in <code>/proc/PID/ns</code>. Next: PID namespaces.</p>",
    steps: [
      {
        id: "whoami",
        title: "Who are you?",
        html:
          "<p>Ask the shell who you are and which host you are on:</p>" +
          code("run", "whoami; hostname") +
          "<p>You are <code>root</code>, yet the server did not give you root. The <strong>user namespace</strong> maps your uid.</p>" +
          code("copy", "cat /proc/self/uid_map"),
        hints: ["Click <strong>Run</strong> on the first code block.", "Or type <code>whoami</code> and press Enter."],
        hasCheck: true,
        hasSolution: true,
      },
      {
        id: "ns-links",
        title: "Namespaces are files",
        html:
          "<p>Every process has one link per namespace type:</p>" +
          code("run", "ls -l /proc/self/ns") +
          "<ol><li>Each link names a type and an inode number.</li><li>Two processes share a namespace when the numbers match:" +
          code("run", "readlink /proc/1/ns/pid /proc/self/ns/pid", ' data-terminal="2"') +
          "</li></ol>",
        hints: ["Use <code>ls -l</code> on <code>/proc/self/ns</code>."],
        hasCheck: true,
        hasSolution: true,
      },
      {
        id: "sleep",
        title: "A process that waits",
        html: "<p>Start something long-running, then stop it:</p>" + code("run", "sleep 1000", ' data-interrupt="true"') + code("plain", "# plain code, not runnable\necho hi"),
        hints: [],
        hasCheck: true,
        hasSolution: false,
      },
    ],
  },
  {
    id: "pid-namespaces",
    title: "PID namespaces and PID 1",
    summary: "Who is PID 1 in a new PID namespace, and why it matters when it dies.",
    order: 2,
    minutes: 15,
    namespaces: ["pid", "mnt"],
    prerequisites: ["containers-are-processes"],
    stepCount: 0,
    lang: "en",
    introHtml: "<p>PID namespaces.</p>",
    finishHtml: "",
    steps: [],
  },
];
