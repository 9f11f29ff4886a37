# nslab: an interactive shell in your lab (written to the lab's /etc/bash.bashrc by server/labs/rootfs.ts)
#
# The prompt says where you are: the namespaces this shell is in that are not the lab's own,
#   root@lab-1a2b3c [pid+1 mnt]:~#
# with pid and user namespaces counted in levels below the lab's. A shell never changes its own
# namespaces, so this is worked out once when the shell starts (one stat(1)), not at every prompt.
# The lab's own namespaces (NSLAB_NS, recorded by the first shell nslab starts) and the depths seen
# so far (NSLAB_NSDEPTH; NSLAB_SHELL_pid and NSLAB_SHELL_user of the nearest shell above) reach
# nested shells through the environment. A terminal's own shell is told the lab's namespaces by the
# server (NSLAB_NS, NSLAB_NS_HOME: it is in them by construction), so the first prompt costs no
# stat(1) fork and exec; NSLAB_NS_HOME is unset at once, so shells below it look for themselves. A pid namespace's depth is exact while /proc belongs to
# the lab's pid namespace (NSpid then lists one pid per level); after --mount-proc it is the shell
# above's plus one.
[ -z "$PS1" ] && return
shopt -s checkwinsize histappend
HISTFILE=/root/.bash_history HISTSIZE=10000 HISTFILESIZE=10000 HISTCONTROL=
alias ls='ls --color=auto' grep='grep --color=auto'
__nslab_prompt() { local s=$?; history -a; printf '\033]633;D;%s\007' "$s"; }
PROMPT_COMMAND=__nslab_prompt

# the prompt: user@host [namespaces that differ from the lab's]:dir#
__nslab_where() {
  local n i t d p k v marks=""
  local -A cur=() lab=() dep=()
  if [ -n "$NSLAB_NS_HOME" ] && [ -n "$NSLAB_NS" ]; then
    # a shell nslab started (a terminal's): in the lab's own namespaces, at depth 0 (lab.ts says so)
    unset NSLAB_NS_HOME
    for n in $NSLAB_NS; do
      case ${n%%:*} in pid | user) export "NSLAB_SHELL_${n%%:*}=${n#*:}:0" ;; esac
    done
  else
    unset NSLAB_NS_HOME
    while read -r n i; do cur[${n#/proc/}]=$i; done < <(stat -L -c '%n %i' /proc/self/ns/{user,pid,mnt,uts,ipc,net,cgroup,time} /proc/1/ns/pid 2>/dev/null)
    if [ -n "${cur[self/ns/pid]}" ]; then
      if [ -z "$NSLAB_NS" ]; then
        for t in user pid mnt uts ipc net cgroup time; do [ -n "${cur[self/ns/$t]}" ] && NSLAB_NS+="$t:${cur[self/ns/$t]} "; done
        export NSLAB_NS
      fi
      for n in $NSLAB_NS; do lab[${n%%:*}]=${n#*:}; done
      for n in $NSLAB_NSDEPTH; do dep[${n%:*}]=${n##*:}; done
      for t in user pid mnt uts ipc net cgroup time; do
        i=${cur[self/ns/$t]}
        [ -n "$i" ] && [ -n "${lab[$t]}" ] || continue
        if [ "$t" = pid ] || [ "$t" = user ]; then
          if [ "$i" = "${lab[$t]}" ]; then d=0
          elif [ -n "${dep[$t:$i]}" ]; then d=${dep[$t:$i]}
          else
            p=NSLAB_SHELL_$t; p=${!p}
            if [ -n "$p" ] && [ "${p%:*}" = "$i" ]; then d=${p#*:}
            elif [ -n "$p" ]; then d=$(( ${p#*:} + 1 ))
            else d=1
            fi
            if [ "$t" = pid ] && [ "${cur[1/ns/pid]}" = "${lab[pid]}" ]; then
              while read -r k v; do [ "$k" = NSpid: ] && { set -- $v; d=$(( $# - 1 )); break; }; done < /proc/self/status
            fi
            set -- $NSLAB_NSDEPTH "$t:$i:$d"
            [ $# -gt 16 ] && shift $(( $# - 16 ))
            export NSLAB_NSDEPTH="$*"
          fi
          export "NSLAB_SHELL_$t=$i:$d"
          [ "$d" -gt 0 ] && marks+="$t+$d "
        elif [ "$i" != "${lab[$t]}" ]; then
          marks+="$t "
        fi
      done
    fi
  fi
  marks=${marks% }
  PS1='\[\e[1;32m\]\u@\h\[\e[0m\]'
  [ -n "$marks" ] && PS1+=" \[\e[1;33m\][$marks]\[\e[0m\]"
  PS1+=':\[\e[1;34m\]\w\[\e[0m\]\$ '
}
__nslab_where
unset -f __nslab_where
