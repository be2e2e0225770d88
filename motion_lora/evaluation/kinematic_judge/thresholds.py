"""The kinematic judge's concepts and thresholds, each with the measurement that set it.

Lengths are in reference-leg units (multiply by the clip's leg length), speeds in reference-leg units per
second, angles in degrees, durations in seconds (see the package docstring)."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import BONE_LENGTHS, JOINT

JUDGED_CONCEPTS = ("walk", "run", "jump", "kick", "punch", "wave", "raise_arms", "squat", "bow", "turn_around")

REF_LEG = float(
    np.mean(
        BONE_LENGTHS[[JOINT["left_knee"], JOINT["right_knee"]]]
        + BONE_LENGTHS[[JOINT["left_ankle"], JOINT["right_ankle"]]]
    )
)
MIN_FRAMES = 10  # half a second: shorter clips cannot show a step, a swing or a hold

# Floor and contact
FLOOR_PERCENTILE = 5.0  # the floor is the 5th percentile of the lowest foot joint: robust to a few bad frames
CONTACT_HEIGHT = 0.08  # (~7 cm) a foot joint this close to the floor can bear weight
PLANT_SPEED = 0.2  # (~0.17 m/s) a touching foot slower than this is planted: real planted feet move < 0.1 m/s,
#                    a swinging foot 3-5 m/s; a sliding (skating) generated foot at ~0.4 m/s is not planted
AIR_HEIGHT = 0.05  # (~4 cm) every foot joint higher than this above the floor: the person is airborne
UPRIGHT_COS = 0.6  # torso within ~53° of vertical: standing or moving on the feet, not rolling or flipping
SMOOTH_S = 0.5  # root velocity is averaged over half a second, removing the side-to-side sway of each step

# walk
WALK_MIN_ALTERNATIONS = 2  # left-right-left (or right-left-right) single-foot stances: at least two steps
WALK_MIN_STANCE_FRAMES = 2  # a single-foot stance shorter than 0.1 s is contact noise, not a step
WALK_MIN_SPEED = 0.25  # (~0.2 m/s) slower than the slowest real walks: stepping in place is not walking
WALK_MAX_AIRBORNE = 0.05  # walking always keeps a foot down; a run spends ~20-40% of its time in flight
WALK_MIN_FORWARD_SHARE = 0.5  # of the root's travel, mostly along the facing (forward or back): not a side step

# run
RUN_MIN_FLIGHTS = 2  # two flight phases with a one-foot contact between: a single one is a hop or a jump
RUN_MIN_SPEED = 1.5  # (~1.25 m/s) slow jogs are ~1.5-2 m/s; walks with a brief flight glitch are slower
RUN_MIN_AIRBORNE = 0.03  # share of the moving stretch spent in flight (real light jogs: 3-4%)
RUN_MAX_DOUBLE_CONTACT = 0.5  # a running contact is on one foot; both feet down for longer is a jump's landing

# jump
JUMP_CLEARANCE = 0.08  # (~7 cm) both feet clearly off the floor, beyond running's skimming flights
JUMP_MIN_FLIGHT_FRAMES = 2  # at least 0.1 s in the air
JUMP_TAKEOFF_SYNC_S = 0.2  # both feet left the floor within 0.2 s of each other: a two-footed take-off
JUMP_MIN_STANCE_FRAMES = 2  # both feet planted together this long before taking off: a real two-footed push
JUMP_MIN_RISE = 0.04  # (~3 cm) pelvis above its standing height during the flight

# kick
KICK_MIN_RAISE = 0.55  # (~45 cm) kicking ankle above its rest height: real kicks 0.9+, a run's heel flick <= 0.45,
#                       a march 0.3
KICK_MIN_KNEE = 105.0  # knee angle at the peak (180 = straight): opened past a march's right angle (78-89°);
#                        snap kicks peak at 110-130°, straight-leg and side kicks at 145-170°
KICK_MIN_SHIN = 40.0  # shin raised this far from hanging straight down; in a march the shin stays down (~33°)
KICK_MIN_TORSO_UP = 0.3  # cos of the torso tilt at the peak: upright-ish (a side kick leans), not a cartwheel
KICK_MIN_SPEED = 2.5  # (~2 m/s) peak ankle speed near the peak; a slow leg raise is not a kick
KICK_WINDOW_S = 0.5  # where the fast foot is looked for around the peak
KICK_MAX_ROOT_SPEED = 2.0  # (~1.6 m/s) at the peak: slower than a jog (a roundhouse swings the hips at ~1.2 m/s)
KICK_SUPPORT_HEIGHT = 0.15  # (~12 cm) the support foot stays near the floor (it may pivot or hop a little)

# punch
PUNCH_MIN_REACH = 0.88  # wrist-shoulder distance / arm length at the hit: near full reach
PUNCH_MAX_CHAMBER = 0.72  # ... coming from a bent arm (fist near the chest) shortly before
PUNCH_WINDOW_S = 0.4  # the extension takes at most this long: a punch is quick
PUNCH_MIN_FRONT = 0.6  # forward component of wrist - shoulder / arm length: in front, not at the side
PUNCH_MAX_HEIGHT = 0.45  # |wrist - shoulder| height / arm length: at chest level, not overhead or hanging
PUNCH_MIN_SPEED = 2.0  # (arm lengths/s relative to the shoulder) so locomotion does not count as speed

# wave
WAVE_MIN_ABOVE = 0.2  # (~11 cm) wrist above the shoulder, arm lengths: a boxing guard (~0.17) or a clap stays lower
WAVE_MIN_SWING = 0.08  # lateral swing between reversals, arm lengths (~4 cm): larger than tremor
WAVE_MIN_LATERAL_SHARE = 0.5  # of the wrist's path while raised, mostly sideways (a punch's path is forward)
WAVE_MIN_REVERSALS = 3  # three direction changes: a hand going back and forth at least 1.5 times
WAVE_MIN_RAISED_S = 0.5  # the hand stays up at least this long while swinging

# raise_arms
RAISE_MIN_ABOVE_HEAD = 0.0  # wrist above the head joint (real elderly takes raise the hands just to head height)
RAISE_MIN_HOLD_S = 0.4  # held, not a flick of the hand past the head
RAISE_MAX_SPEED = 0.5  # (arm lengths/s, relative to the shoulder, averaged over 0.25 s) held still: a waving
#                       hand moves ~2

# squat
SQUAT_MIN_DROP = 0.28  # (~23 cm) pelvis drop from its earlier standing height; a jump's crouch is shallower
SQUAT_MAX_KNEE = 125.0  # both knees bent at the bottom
SQUAT_FEET_PLANTED_S = 0.3  # both feet planted around the bottom for at least this long
SQUAT_CLEAR_OF_FLIGHT_S = 0.6  # a crouch this close to a flight is a jump's take-off or landing

# bow
BOW_MIN_PITCH = 22.0  # torso (pelvis -> neck) forward of vertical; walking leans < 10, a slight bow ~25
BOW_MIN_PELVIS = 0.85  # pelvis height / leg at the bow: standing, not crawling or sitting
BOW_MIN_HOLD_S = 0.3  # the pitch is held a moment with the feet planted; a lean while stepping is brief

# turn_around
TURN_MIN_DEGREES = 135.0  # facing changes by more than this: turned round, not a quarter turn
TURN_END_S = 0.5  # the facing at the start and at the end of the clip: averaged over this long
TURN_SMOOTH_S = 0.25  # facing yaw is averaged over this window so a twist of the shoulders does not count

# joints the rules read beyond skeleton's left/right pairs, and the vertical
PELVIS, NECK, HEAD = JOINT["pelvis"], JOINT["neck"], JOINT["head"]
UP = np.array([0.0, 1.0, 0.0])
