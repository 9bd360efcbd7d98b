"""A hand-written gripper library: the reference point for "does the agent use what it is given" (bench_learning_gain.py).

`deliver` reads the state with facts() (the sandbox's read-only query), so it works from any position."""


def carry(ball, from_room, to_room):
    """Bring one ball from from_room to to_room. Robby must be in from_room and the left gripper free; Robby ends in to_room."""
    pick(ball, from_room, "left")
    move(from_room, to_room)
    return drop(ball, to_room, "left")


def deliver(ball, to_room):
    """Bring ball to to_room from wherever it is: Robby walks to the ball, picks it up with a free gripper, carries it to to_room and drops it there."""
    here = [f[1] for f in facts() if f[0] == "at-robby"][0]
    where = [f[2] for f in facts() if f[0] == "at" and f[1] == ball]
    if not where:
        return observe()
    if here != where[0]:
        move(here, where[0])
    free = [f[1] for f in facts() if f[0] == "free"]
    pick(ball, where[0], free[0])
    if where[0] != to_room:
        move(where[0], to_room)
    return drop(ball, to_room, free[0])
