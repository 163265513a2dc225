# ~/.bashrc: executed by bash(1) for non-login shells.

# If not running interactively, don't do anything
case $- in
    *i*) ;;
      *) return;;
esac

HISTCONTROL=ignoreboth
shopt -s histappend
HISTSIZE=1000
HISTFILESIZE=2000

if [ -f ~/.bash_aliases ]; then
    . ~/.bash_aliases
fi

export PATH="$HOME/.local/bin:$HOME/go/bin:$PATH"
export EDITOR=vim
export AWS_PROFILE=acme-dev

# AI tooling
export ANTHROPIC_API_KEY=TGSECRET-DO-NOT-SHOW-0009
# export GEMINI_API_KEY=TGSECRET-DO-NOT-SHOW-0010
export OPENAI_API_KEY="$(pass show acme/openai-api-key 2>/dev/null)"
export ANTHROPIC_MODEL="claude-sonnet-4-20250514"

alias k=kubectl
alias ll='ls -alF'
