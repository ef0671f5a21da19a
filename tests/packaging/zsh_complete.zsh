# zsh -f zsh_complete.zsh FPATH_DIR 'pacer sy'
# Types the words into an interactive zsh under a pseudo-terminal (zpty),
# presses TAB, and prints the command line as completion left it:
# "LINE:pacer sync". Used by test_completion.sh.
zmodload zsh/zpty || exit 2
zpty -b z zsh -f -i
zpty -w z "PS1='%% '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -n -w z "$2"$'\t'
sleep 0.5
# Ctrl-A, then turn the line into a command that prints it.
zpty -n -w z $'\x01echo LINE:\n'
out=""
for i in {1..50}; do
  while zpty -r -t z chunk; do out+=$chunk; done
  [[ $out == *$'\n'LINE:* ]] && break
  sleep 0.1
done
zpty -d z
for l in "${(@f)out}"; do
  [[ $l == LINE:* ]] && print -r -- "${l%$'\r'}"
done
