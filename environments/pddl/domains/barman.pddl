;;; Barman -- written for the LearnAct-on-LangGraph project.
;;; A robot barman with two hands serves cocktails: it fills shots at dispensers, pours
;;; ingredients into a shaker, shakes, and pours the cocktail into shots. A shaker holds
;;; as many doses as its level says; levels are ordered by (next lower higher).
;;; Type, predicate and operator names and parameter order match the IPC-2011 barman
;;; domain used by the AgentBoard/LearnAct benchmark, so its problem files run here.
(define (domain barman)
  (:requirements :strips :typing)
  (:types
    hand level beverage dispenser container - object
    ingredient cocktail - beverage
    shot shaker - container)

  (:predicates
    (ontable ?c - container)                       ; ?c stands on the bar
    (holding ?h - hand ?c - container)             ; hand ?h holds ?c
    (handempty ?h - hand)
    (empty ?c - container)
    (contains ?c - container ?drink - beverage)
    (clean ?c - container)
    (used ?c - container ?drink - beverage)        ; ?c is dirty with ?drink
    (dispenses ?d - dispenser ?i - ingredient)
    (shaker-empty-level ?s - shaker ?l - level)    ; the level of ?s when empty
    (shaker-level ?s - shaker ?l - level)          ; the current level of ?s
    (next ?lower - level ?higher - level)
    (unshaked ?s - shaker)
    (shaked ?s - shaker)
    (cocktail-part1 ?c - cocktail ?i - ingredient)
    (cocktail-part2 ?c - cocktail ?i - ingredient))

  ;; ---- handling containers
  (:action grasp
    :parameters (?h - hand ?c - container)
    :precondition (and (handempty ?h) (ontable ?c))
    :effect (and (holding ?h ?c) (not (handempty ?h)) (not (ontable ?c))))

  (:action leave
    :parameters (?h - hand ?c - container)
    :precondition (holding ?h ?c)
    :effect (and (not (holding ?h ?c)) (handempty ?h) (ontable ?c)))

  ;; ---- shots
  ;; Filling needs the other hand free to work the dispenser.
  (:action fill-shot
    :parameters (?s - shot ?i - ingredient ?h1 - hand ?h2 - hand ?d - dispenser)
    :precondition (and (holding ?h1 ?s) (handempty ?h2) (dispenses ?d ?i)
                       (empty ?s) (clean ?s))
    :effect (and (contains ?s ?i) (used ?s ?i) (not (empty ?s)) (not (clean ?s))))

  ;; A shot dirty with the same ingredient may be refilled without cleaning.
  (:action refill-shot
    :parameters (?s - shot ?i - ingredient ?h1 - hand ?h2 - hand ?d - dispenser)
    :precondition (and (holding ?h1 ?s) (handempty ?h2) (dispenses ?d ?i)
                       (empty ?s) (used ?s ?i))
    :effect (and (contains ?s ?i) (not (empty ?s))))

  (:action empty-shot
    :parameters (?h - hand ?p - shot ?b - beverage)
    :precondition (and (holding ?h ?p) (contains ?p ?b))
    :effect (and (empty ?p) (not (contains ?p ?b))))

  (:action clean-shot
    :parameters (?s - shot ?b - beverage ?h1 - hand ?h2 - hand)
    :precondition (and (holding ?h1 ?s) (handempty ?h2) (empty ?s) (used ?s ?b))
    :effect (and (clean ?s) (not (used ?s ?b))))

  ;; ---- the shaker
  ;; The first dose goes into a clean, empty shaker ...
  (:action pour-shot-to-clean-shaker
    :parameters (?s - shot ?i - ingredient ?d - shaker ?h1 - hand ?l - level ?l1 - level)
    :precondition (and (holding ?h1 ?s) (contains ?s ?i)
                       (empty ?d) (clean ?d) (shaker-level ?d ?l) (next ?l ?l1))
    :effect (and (empty ?s) (not (contains ?s ?i))
                 (contains ?d ?i) (unshaked ?d) (not (empty ?d)) (not (clean ?d))
                 (shaker-level ?d ?l1) (not (shaker-level ?d ?l))))

  ;; ... later doses into a shaker that has not been shaken yet.
  (:action pour-shot-to-used-shaker
    :parameters (?s - shot ?i - ingredient ?d - shaker ?h1 - hand ?l - level ?l1 - level)
    :precondition (and (holding ?h1 ?s) (contains ?s ?i)
                       (unshaked ?d) (shaker-level ?d ?l) (next ?l ?l1))
    :effect (and (empty ?s) (not (contains ?s ?i))
                 (contains ?d ?i)
                 (shaker-level ?d ?l1) (not (shaker-level ?d ?l))))

  (:action empty-shaker
    :parameters (?h - hand ?s - shaker ?b - cocktail ?l - level ?l1 - level)
    :precondition (and (holding ?h ?s) (shaked ?s) (contains ?s ?b)
                       (shaker-level ?s ?l) (shaker-empty-level ?s ?l1))
    :effect (and (empty ?s) (not (contains ?s ?b)) (not (shaked ?s))
                 (shaker-level ?s ?l1) (not (shaker-level ?s ?l))))

  (:action clean-shaker
    :parameters (?h1 - hand ?h2 - hand ?s - shaker)
    :precondition (and (holding ?h1 ?s) (handempty ?h2) (empty ?s))
    :effect (clean ?s))

  ;; Shaking turns the two parts of a cocktail into the cocktail.
  (:action shake
    :parameters (?b - cocktail ?d1 - ingredient ?d2 - ingredient ?s - shaker ?h1 - hand ?h2 - hand)
    :precondition (and (holding ?h1 ?s) (handempty ?h2) (unshaked ?s)
                       (contains ?s ?d1) (contains ?s ?d2)
                       (cocktail-part1 ?b ?d1) (cocktail-part2 ?b ?d2))
    :effect (and (shaked ?s) (not (unshaked ?s)) (contains ?s ?b)
                 (not (contains ?s ?d1)) (not (contains ?s ?d2))))

  ;; Each shot poured out lowers the shaker by one level.
  (:action pour-shaker-to-shot
    :parameters (?b - beverage ?d - shot ?h - hand ?s - shaker ?l - level ?l1 - level)
    :precondition (and (holding ?h ?s) (shaked ?s) (contains ?s ?b)
                       (empty ?d) (clean ?d) (shaker-level ?s ?l) (next ?l1 ?l))
    :effect (and (contains ?d ?b) (not (empty ?d)) (not (clean ?d))
                 (shaker-level ?s ?l1) (not (shaker-level ?s ?l)))))
