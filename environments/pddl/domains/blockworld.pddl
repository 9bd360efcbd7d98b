;;; Blocksworld with four operators -- written for the LearnAct-on-LangGraph project.
;;; One robot arm rearranges blocks on a table. Names and parameter order match the
;;; "blocksworld-4ops" domain of the AgentBoard/LearnAct benchmark.
(define (domain blocksworld-4ops)
  (:requirements :strips)

  (:predicates
    (clear ?b)          ; nothing is on block ?b and the arm does not hold it
    (on-table ?b)       ; block ?b stands on the table
    (arm-empty)         ; the arm holds nothing
    (holding ?b)        ; the arm holds block ?b
    (on ?b ?below))     ; block ?b stands on block ?below

  ;; Lift a free-standing block off the table.
  (:action pickup
    :parameters (?ob)
    :precondition (and (arm-empty) (on-table ?ob) (clear ?ob))
    :effect (and (holding ?ob)
                 (not (arm-empty)) (not (on-table ?ob)) (not (clear ?ob))))

  ;; Set the held block on the table.
  (:action putdown
    :parameters (?ob)
    :precondition (holding ?ob)
    :effect (and (not (holding ?ob))
                 (arm-empty) (on-table ?ob) (clear ?ob)))

  ;; Set the held block on top of a clear block.
  (:action stack
    :parameters (?ob ?underob)
    :precondition (and (holding ?ob) (clear ?underob))
    :effect (and (not (holding ?ob)) (not (clear ?underob))
                 (on ?ob ?underob) (clear ?ob) (arm-empty)))

  ;; Lift a clear block off the block below it.
  (:action unstack
    :parameters (?ob ?underob)
    :precondition (and (arm-empty) (clear ?ob) (on ?ob ?underob))
    :effect (and (not (arm-empty)) (not (clear ?ob)) (not (on ?ob ?underob))
                 (holding ?ob) (clear ?underob))))
