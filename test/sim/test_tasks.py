"""The task registry: every task file loads, names match, shifts combine without erasing task keys."""

from __future__ import annotations

import json

import pytest
import yaml

from liquid_control.sim import make_sim
from liquid_control.sim.perturbations import Perturbation
from liquid_control.sim.tasks import TASKS, Task, TaskKind, combine, get_task, tasks_dir, tasks_for


def test_every_task_file_is_registered_and_every_task_has_a_file():
    files = {path.name.removesuffix(".yaml") for path in tasks_dir().glob("*.yaml")}
    assert files == set(TASKS)
    for task in TASKS.values():
        assert task.conditions().name == task.name
        assert task.name.split(".")[0] == task.robot


def test_each_robot_has_a_reactive_control_two_memory_tasks_and_a_probe_pair():
    for robot, control in (("rover", "rover.lane"), ("drone", "drone.target")):
        assert [t.name for t in tasks_for(robot, TaskKind.REACTIVE)] == [control]
        assert len(tasks_for(robot, TaskKind.MEMORY)) >= 2
        train = tasks_for(robot, TaskKind.PROBE_TRAIN)
        test = tasks_for(robot, TaskKind.PROBE_TEST)
        assert len(train) == len(test) == 1
        assert train[0].probe_pair == test[0].name and test[0].probe_pair == train[0].name
    assert not get_task("rover.lane").memory and get_task("drone.cue_go").memory


def test_reactive_controls_are_todays_nominal_conditions():
    for name in ("rover.lane", "drone.target"):
        conditions = get_task(name).conditions()
        assert conditions.to_dict() == {**Perturbation().to_dict(), "name": name}


@pytest.mark.parametrize("name", list(TASKS))
def test_each_task_builds_its_robots_simulator_and_runs_through_job_json(name):
    task = get_task(name)
    as_json = json.dumps(task.conditions().to_dict())  # what learn/rollout.py Job carries
    sim = make_sim(task.robot, Perturbation.from_dict(json.loads(as_json)), render=False)
    sim.reset(3)
    assert sim.episode_info()["seed"] == 3
    sim.close()


def test_unknown_task_names_are_refused_with_the_known_names():
    with pytest.raises(ValueError, match=r"unknown task 'rover\.forks'.*rover\.fork"):
        get_task("rover.forks")
    with pytest.raises(ValueError, match="robot='boat'"):
        tasks_for("boat")
    with pytest.raises(FileNotFoundError, match="missing"):
        Task("rover.none", "rover", TaskKind.MEMORY, "no file").conditions()


def test_a_shift_adds_keys_and_keeps_the_tasks_own():
    combined = combine("rover.fork", {"name": "sand", "scene": {"ground": "sand", "light": 0.6}})
    assert combined.name == "rover.fork+sand"
    assert combined.scene.fork_cue_m == 5.0
    assert combined.scene.ground.value == "sand" and combined.scene.light == 0.6
    assert combine("drone.cue_go").scene.cue_s == 1.0
    assert combine("drone.cue_go", {"camera": {"noise_std": 0.1}}, name="x").name == "x"
    same = combine("drone.cue_go", {"scene": {"cue_s": 1, "distractors": 2}})  # same value: fine
    assert same.scene.cue_s == 1.0 and same.scene.distractors == 2


def test_a_shift_that_changes_a_task_key_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"scene\.fork_cue_m = 3.*fixes it at 5\.0"):
        combine("rover.fork", {"name": "short", "scene": {"fork_cue_m": 3.0}})
    with pytest.raises(ValueError, match=r"scene\.spurious_cue"):
        combine("rover.fork_probe_train", {"scene": {"spurious_cue": None}})
    shift = Perturbation.from_dict({"name": "late", "scene": {"occlusion_s": 8.0}})
    with pytest.raises(ValueError, match=r"scene\.occlusion_s"):
        combine("drone.occlusion", shift)


def test_shift_files_and_objects_combine_and_bad_shifts_fail_by_name(tmp_path):
    path = tmp_path / "dusk.yaml"
    path.write_text(yaml.safe_dump({"scene": {"light": 0.4}, "camera": {"noise_std": 0.05}}))
    combined = combine("drone.occlusion", path)
    assert combined.name == "drone.occlusion+dusk"
    assert combined.scene.light == 0.4 and combined.scene.occlusion_s == 4.0
    from_object = combine("drone.occlusion", Perturbation.from_yaml(path))
    assert from_object.to_dict() == combined.to_dict()
    with pytest.raises(ValueError, match=r"scene\.fog"):
        combine("rover.gaps", {"scene": {"fog": 1.0}})
    with pytest.raises(ValueError, match=r"scene\.lane_gap_m.*out of range"):
        combine("rover.lane", {"scene": {"lane_gap_m": 100.0}})
    with pytest.raises(ValueError, match="does not exist"):
        combine("rover.lane", tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"scene": {"occlusion_s": 0.1}}, r"scene\.occlusion_s.*out of range; allowed 0\.5"),
        ({"scene": {"cue_s": "long"}}, r"scene\.cue_s.*must be a number"),
        ({"scene": {"cue_delay_s": -1}}, r"scene\.cue_delay_s.*out of range"),
        ({"scene": {"target_speed_mps": 3}}, r"scene\.target_speed_mps.*out of range"),
        ({"scene": {"spurious_cue": 1.5}}, r"scene\.spurious_cue.*out of range"),
        ({"scene": {"fork_cue_m": 1.0}}, r"scene\.fork_cue_m.*out of range"),
        ({"scene": {"lane_gap": 5}}, r"unknown perturbation key 'scene\.lane_gap'"),
    ],
)
def test_task_keys_are_range_checked_like_every_key(raw, message):
    with pytest.raises(ValueError, match=message):
        Perturbation.from_dict(raw)


@pytest.mark.parametrize(
    ("robot", "scene", "message"),
    [
        ("rover", {"cue_s": 1.0}, r"'scene\.cue_s' is a drone task key"),
        ("rover", {"lane_gap_m": 5, "fork_cue_m": 5}, "two tasks; set one"),
        ("rover", {"spurious_cue": 1.0}, r"needs 'scene\.fork_cue_m'"),
        ("drone", {"fork_cue_m": 5.0}, r"'scene\.fork_cue_m' is a rover task key"),
        ("drone", {"cue_s": 1.0, "occlusion_s": 2.0}, "two tasks; set one"),
        ("drone", {"cue_delay_s": 1.0}, r"needs 'scene\.cue_s'"),
        ("drone", {"cue_s": 1.0, "spurious_cue": 1.0}, "single ball"),
    ],
)
def test_the_simulators_refuse_task_keys_that_do_not_fit(robot, scene, message):
    with pytest.raises(ValueError, match=message):
        make_sim(robot, Perturbation.from_dict({"scene": scene}), render=False)


@pytest.mark.parametrize(
    ("name", "choice"), [("rover.fork", 2), ("rover.gaps", -1), ("drone.cue_go", "left")]
)
def test_a_forced_choice_must_be_0_or_1(name, choice):
    task = get_task(name)
    sim = make_sim(task.robot, task.conditions(), render=False)
    sim.choice = choice
    with pytest.raises(ValueError, match=r"sim\.choice=.*allowed: None \(drawn\), 0 \(left\), 1"):
        sim.reset(0)
    sim.close()
