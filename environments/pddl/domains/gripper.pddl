;;; Gripper -- written for the LearnAct-on-LangGraph project.
;;; Robby, a robot with a left and a right gripper, carries balls between rooms.
;;; Predicate names, operator names and parameter order match the IPC-1998 STRIPS version
;;; used by the AgentBoard/LearnAct benchmark, so its problem files run on this domain.
(define (domain gripper-strips)
  (:requirements :strips)

  (:predicates
    (room ?place)              ; ?place is a room
    (ball ?thing)              ; ?thing is a ball
    (gripper ?hand)            ; ?hand is one of Robby's grippers
    (at-robby ?place)          ; Robby stands in ?place
    (at ?thing ?place)         ; ball ?thing lies in room ?place
    (free ?hand)               ; gripper ?hand holds nothing
    (carry ?thing ?hand))      ; gripper ?hand holds ball ?thing

  ;; Robby walks to another room.
  (:action move
    :parameters (?from ?to)
    :precondition (and (room ?from) (room ?to) (at-robby ?from))
    :effect (and (not (at-robby ?from)) (at-robby ?to)))

  ;; A free gripper takes a ball lying in Robby's room.
  (:action pick
    :parameters (?obj ?room ?gripper)
    :precondition (and (ball ?obj) (room ?room) (gripper ?gripper)
                       (at-robby ?room) (at ?obj ?room) (free ?gripper))
    :effect (and (not (at ?obj ?room)) (not (free ?gripper))
                 (carry ?obj ?gripper)))

  ;; A gripper lets its ball go in Robby's room.
  (:action drop
    :parameters (?obj ?room ?gripper)
    :precondition (and (ball ?obj) (room ?room) (gripper ?gripper)
                       (at-robby ?room) (carry ?obj ?gripper))
    :effect (and (not (carry ?obj ?gripper))
                 (at ?obj ?room) (free ?gripper))))
