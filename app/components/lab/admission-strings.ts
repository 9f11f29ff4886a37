/** The words of the lab's lifetime and admission (queue, countdowns, access code, expiry), in the site's languages. */
import type { Lang } from "@/app/i18n/dict";
import type { LabEndReason } from "@/lib/protocol";

const en = {
  busyTitle: "All labs are busy",
  queuePlace: (n: number, of: number) => (n === 1 ? `You are next in line (${of} waiting).` : `You are number ${n} in line (${of} waiting).`),
  queueMemory: "The server is short of memory right now.",
  queueHint: "Your lab starts by itself as soon as one is free. Keep this page open; your progress is kept.",
  queueStarting: "A lab is free: starting yours…",
  retryTitle: { rate_limited: "Many labs were just started from your network", draining: "This server is not starting new labs right now", locked_out: "Too many wrong codes" },
  retryWhy: {
    rate_limited: "So that everyone gets a lab, each network may start only a few a minute. Your lab starts by itself.",
    draining: "It is being prepared for maintenance; labs already running go on. This page asks again by itself.",
    locked_out: "Wait a little, then check the code with your instructor.",
  },
  retryIn: (s: number) => `Trying again in ${s} s…`,
  codeTitle: "This is a workshop server",
  codeHint: "Enter the access code your instructor gave you.",
  codeWrong: "That code is not right. Check it and try again.",
  codeLabel: "Access code",
  codeSubmit: "Start my lab",
  expiringTitle: {
    idle: "Your lab is about to be put away: nothing happened in it for a while.",
    "max-lifetime": "Your lab reaches its maximum lifetime soon.",
    deadline: "Your lab's time is almost up.",
  },
  expiringIn: (s: string) => `In ${s}.`,
  stillHere: "I'm still here",
  ended: {
    idle: ["Your lab was put away", "Nothing happened in it for a while, so its resources went to other learners. Your progress is kept."],
    "max-lifetime": ["Your lab reached its time limit", "Labs last a few hours at most. Your progress is kept."],
    deadline: ["Your lab's time is up", "Its class ended. Your progress is kept."],
    operator: ["Your lab was ended", "The server's operator ended it. Your progress is kept."],
    shutdown: ["The server restarted", "Your lab was shut down with it. Your progress is kept."],
    deleted: ["This lab is gone", "It was shut down. Your progress is kept."],
    "agent-lost": ["The machine running your lab stopped", "Your lab went with it. Your progress is kept: a fresh lab starts on another machine."],
    "cgroup-limit": ["Your lab was ended: too many cgroups", "It made more child cgroups than a lab may; they use kernel resources that every lab on this machine shares. Your progress is kept: start a fresh lab."],
  } satisfies Record<LabEndReason, [string, string]>,
  freshLab: "Start a fresh lab",
};

const zh: typeof en = {
  busyTitle: "所有实验环境都在使用中",
  queuePlace: (n, of) => (n === 1 ? `下一个就轮到你（共 ${of} 人在等）。` : `你排在第 ${n} 位（共 ${of} 人在等）。`),
  queueMemory: "服务器内存暂时不足。",
  queueHint: "一有空闲，你的实验环境就会自动启动。请保持此页面打开；你的学习进度会保留。",
  queueStarting: "有空位了：正在启动你的实验环境…",
  retryTitle: { rate_limited: "你的网络刚刚启动了很多实验环境", draining: "这台服务器暂时不启动新的实验环境", locked_out: "错误的访问码太多" },
  retryWhy: {
    rate_limited: "为了让每个人都能用上实验环境，每个网络每分钟只能启动几个。你的实验环境会自动启动。",
    draining: "服务器正准备维护；已经在运行的实验环境不受影响。此页面会自动重试。",
    locked_out: "请稍等片刻，然后和讲师核对访问码。",
  },
  retryIn: (s) => `${s} 秒后自动重试…`,
  codeTitle: "这是一台工作坊服务器",
  codeHint: "请输入讲师给你的访问码。",
  codeWrong: "访问码不对，请检查后再试。",
  codeLabel: "访问码",
  codeSubmit: "启动我的实验环境",
  expiringTitle: {
    idle: "你的实验环境即将被回收：它已经有一阵子没有任何活动了。",
    "max-lifetime": "你的实验环境即将达到最长使用时间。",
    deadline: "你的实验环境时间快到了。",
  },
  expiringIn: (s) => `还剩 ${s}。`,
  stillHere: "我还在",
  ended: {
    idle: ["你的实验环境已被回收", "它有一阵子没有任何活动，资源已让给其他学习者。你的学习进度已保留。"],
    "max-lifetime": ["你的实验环境已到时间上限", "每个实验环境最多使用几个小时。你的学习进度已保留。"],
    deadline: ["你的实验环境时间到了", "所属课堂已经结束。你的学习进度已保留。"],
    operator: ["你的实验环境已被结束", "服务器管理员结束了它。你的学习进度已保留。"],
    shutdown: ["服务器重启了", "你的实验环境随之关闭。你的学习进度已保留。"],
    deleted: ["这个实验环境已经不在了", "它已被关闭。你的学习进度已保留。"],
    "agent-lost": ["运行你实验环境的机器停止了", "你的实验环境随之结束。你的学习进度已保留：新的实验环境会在另一台机器上启动。"],
    "cgroup-limit": ["你的实验环境已被结束：cgroup 太多", "它创建的子 cgroup 超过了一个实验环境允许的数量；这些 cgroup 占用的是这台机器上所有实验环境共用的内核资源。你的学习进度已保留：请启动一个新的实验环境。"],
  },
  freshLab: "启动一个新的实验环境",
};

export function admissionStrings(lang: Lang): typeof en {
  return lang === "zh-CN" ? zh : en;
}
