;;; Tyreworld (Russell's flat tyre) -- written for the LearnAct-on-LangGraph project.
;;; Replace flat wheels: open the boot, fetch the tools and the spare, loosen the nuts,
;;; jack the hub up, swap the wheels, inflate the spare, tighten up and tidy away.
;;; Type, predicate and operator names and parameter order match the tyreworld domain of
;;; the AgentBoard/LearnAct benchmark. Note: problems write (in <object> <container>).
(define (domain tyreworld)
  (:requirements :strips :typing)
  (:types
    obj container hub - object
    tool wheel nut - obj)
  (:constants wrench jack pump - tool)

  (:predicates
    (isopen ?c - container)
    (closed ?c - container)
    (unlocked ?c - container)
    (in ?thing - obj ?c - container)
    (have ?thing - obj)                  ; the agent carries ?thing
    (tight ?n - nut ?h - hub)
    (loose ?n - nut ?h - hub)
    (on-ground ?h - hub)
    (not-on-ground ?h - hub)             ; ?h is jacked up
    (fastened ?h - hub)                  ; the nuts are on ?h
    (unfastened ?h - hub)
    (free ?h - hub)                      ; no wheel is mounted on ?h
    (on ?w - wheel ?h - hub)
    (inflated ?w - wheel)
    (not-inflated ?w - wheel)
    (intact ?w - wheel))

  ;; ---- the boot
  (:action open
    :parameters (?x - container)
    :precondition (and (closed ?x) (unlocked ?x))
    :effect (and (not (closed ?x)) (isopen ?x)))

  (:action close
    :parameters (?x - container)
    :precondition (isopen ?x)
    :effect (and (not (isopen ?x)) (closed ?x)))

  (:action fetch
    :parameters (?x - obj ?y - container)
    :precondition (and (isopen ?y) (in ?x ?y))
    :effect (and (not (in ?x ?y)) (have ?x)))

  (:action put-away
    :parameters (?x - obj ?y - container)
    :precondition (and (isopen ?y) (have ?x))
    :effect (and (not (have ?x)) (in ?x ?y)))

  ;; ---- nuts: turned with the wrench while the wheel is on the ground ...
  (:action loosen
    :parameters (?x - nut ?y - hub)
    :precondition (and (have wrench) (on-ground ?y) (tight ?x ?y))
    :effect (and (not (tight ?x ?y)) (loose ?x ?y)))

  (:action tighten
    :parameters (?x - nut ?y - hub)
    :precondition (and (have wrench) (on-ground ?y) (loose ?x ?y))
    :effect (and (not (loose ?x ?y)) (tight ?x ?y)))

  ;; ---- the jack stays under the hub while it is up
  (:action jack-up
    :parameters (?y - hub)
    :precondition (and (have jack) (on-ground ?y))
    :effect (and (not (have jack)) (not (on-ground ?y)) (not-on-ground ?y)))

  (:action jack-down
    :parameters (?y - hub)
    :precondition (not-on-ground ?y)
    :effect (and (not (not-on-ground ?y)) (on-ground ?y) (have jack)))

  ;; ---- ... and taken off or put on while it is up
  (:action undo
    :parameters (?x - nut ?y - hub)
    :precondition (and (have wrench) (not-on-ground ?y) (fastened ?y) (loose ?x ?y))
    :effect (and (not (loose ?x ?y)) (not (fastened ?y)) (unfastened ?y) (have ?x)))

  (:action do-up
    :parameters (?x - nut ?y - hub)
    :precondition (and (have wrench) (have ?x) (not-on-ground ?y) (unfastened ?y))
    :effect (and (not (have ?x)) (not (unfastened ?y)) (fastened ?y) (loose ?x ?y)))

  ;; ---- wheels
  (:action remove-wheel
    :parameters (?x - wheel ?y - hub)
    :precondition (and (not-on-ground ?y) (unfastened ?y) (on ?x ?y))
    :effect (and (not (on ?x ?y)) (free ?y) (have ?x)))

  (:action put-on-wheel
    :parameters (?x - wheel ?y - hub)
    :precondition (and (not-on-ground ?y) (unfastened ?y) (free ?y) (have ?x))
    :effect (and (not (have ?x)) (not (free ?y)) (on ?x ?y)))

  (:action inflate
    :parameters (?x - wheel)
    :precondition (and (have pump) (intact ?x) (not-inflated ?x))
    :effect (and (not (not-inflated ?x)) (inflated ?x))))
