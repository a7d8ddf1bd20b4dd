# shifts ROBOT SEVERITY [KIND]: "--perturb FILE" for every cue-preserving study shift of that
# severity (and kind: context, dynamics, timing), for liquid-control eval. Sourced by the
# scripts of results/shipped/.
shifts() {
    python -c "
import sys
from liquid_control.sim.shifts import load_index
robot, severity, kind = sys.argv[1], sys.argv[2], (sys.argv[3:] or [None])[0]
print(' '.join('--perturb ' + str(s.file) for s in load_index().select(robot, cue_preserving=True, severity=severity) if kind in (None, s.kind.value)))
" "$@"
}
