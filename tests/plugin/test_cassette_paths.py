"""Where cassettes live: beside the test file by default, under an ini root, or a file
named by @pytest.mark.cassette (on a test, a class or a module) and shared by tests."""

from __future__ import annotations

from plugin_testing import calls_in, run, write_ini

ONE_CALL = """
    from fake_llm import FakeLLM, ask

    async def {name}(cassette):
        await cassette.llm(FakeLLM(), agent_name="{agent}")(ask("{text}"))
"""


def one_call(name: str = "test_plan", agent: str = "planner", text: str = "hi") -> str:
    return ONE_CALL.format(name=name, agent=agent, text=text)


def jsonl_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.jsonl"))


def test_default_cassette_sits_beside_the_test_file(project):
    """A test in tests/agents/test_trip.py records to tests/agents/cassettes/test_trip/<test>.jsonl."""
    project.mkpydir("tests")
    project.makepyfile(**{"tests/agents/test_trip": one_call()})

    run(project, "--record-mode=once").assert_outcomes(passed=1)

    assert jsonl_files(project.path) == ["tests/agents/cassettes/test_trip/test_plan.jsonl"]


def test_methods_are_named_after_their_class(project):
    """A method's cassette is <Class>.<test>.jsonl, so equal method names in two classes do not collide."""
    project.makepyfile(
        test_trip="""
        from fake_llm import FakeLLM, ask

        class TestBooking:
            async def test_run(self, cassette):
                await cassette.llm(FakeLLM(), agent_name="a")(ask("booking"))

        class TestPlanning:
            async def test_run(self, cassette):
                await cassette.llm(FakeLLM(), agent_name="a")(ask("planning"))
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=2)

    assert jsonl_files(project.path) == [
        "cassettes/test_trip/TestBooking.test_run.jsonl",
        "cassettes/test_trip/TestPlanning.test_run.jsonl",
    ]


def test_parametrize_ids_become_distinct_path_safe_names(project, monkeypatch):
    """Ids with slashes, colons, spaces and dots give one safe file each, and each test replays its own."""
    project.makepyfile(
        test_trip="""
        import pytest
        from fake_llm import FakeLLM, ask

        @pytest.mark.parametrize("city", ["a/b", "a:b", "a b", "a-b", "../up"])
        async def test_city(cassette, city):
            assert await cassette.llm(FakeLLM(), agent_name="a")(ask(city)) == f"reply: {city}"
        """
    )
    run(project, "--record-mode=once").assert_outcomes(passed=5)

    files = jsonl_files(project.path)
    assert len(files) == 5
    assert all(f.startswith("cassettes/test_trip/test_city[") and f.count("/") == 2 for f in files)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")
    run(project).assert_outcomes(passed=5)


def test_cassette_dir_ini_collects_cassettes_under_one_root(project):
    """pyagent_trace_cassette_dir puts cassettes under <rootdir>/<dir>/<test folder>/<module>/<test>.jsonl."""
    write_ini(project, "pyagent_trace_cassette_dir = recorded")
    project.makepyfile(**{"tests/test_trip": one_call()})

    run(project, "--record-mode=once").assert_outcomes(passed=1)

    assert jsonl_files(project.path) == ["recorded/tests/test_trip/test_plan.jsonl"]


def test_marker_path_names_one_file_shared_by_several_tests(project, monkeypatch):
    """@pytest.mark.cassette("shared.jsonl") on two tests records both into one file beside the
    test module, each call tagged with its test, and both replay from it."""
    project.makepyfile(
        test_trip="""
        import pytest
        from fake_llm import FakeLLM, ask

        @pytest.mark.cassette("shared.jsonl")
        async def test_one(cassette):
            await cassette.llm(FakeLLM(), agent_name="planner")(ask("one"))

        @pytest.mark.cassette("shared")
        async def test_two(cassette):
            await cassette.llm(FakeLLM(), agent_name="planner")(ask("two"))
        """
    )
    run(project, "--record-mode=once").assert_outcomes(passed=2)
    monkeypatch.setenv("FAKE_LLM_FORBID", "1")

    calls = calls_in(project.path / "shared.jsonl")
    assert [(c["messages"][0]["content"], c["metadata"]["recorded_by"]) for c in calls] == [
        ("one", "test_trip.py::test_one"),
        ("two", "test_trip.py::test_two"),
    ]
    assert jsonl_files(project.path) == ["shared.jsonl"]
    result = run(project)
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*never used*")


SHARED_PAIR = """
    import pytest
    from fake_llm import FakeLLM, ask

    pytestmark = pytest.mark.cassette("shared.jsonl")

    async def test_one(cassette):
        await cassette.llm(FakeLLM(), agent_name="planner")(ask("one"))

    async def test_two(cassette):
        await cassette.llm(FakeLLM(), agent_name="planner")(ask("two"))
"""


def test_a_test_added_to_a_shared_cassette_records_only_its_part_in_mode_once(project):
    """Mode once treats each test's part of a shared cassette as its cassette: the new test records,
    the other keeps replaying and its calls stay byte for byte."""
    project.makepyfile(test_trip=SHARED_PAIR.split("async def test_two")[0])
    run(project, "--record-mode=once").assert_outcomes(passed=1)
    first_part = (project.path / "shared.jsonl").read_text().splitlines()[1]
    project.makepyfile(test_trip=SHARED_PAIR)

    run(project, "--record-mode=once").assert_outcomes(passed=2)

    lines = (project.path / "shared.jsonl").read_text().splitlines()
    assert lines[1] == first_part
    assert [c["metadata"]["recorded_by"] for c in calls_in(project.path / "shared.jsonl")] == [
        "test_trip.py::test_one",
        "test_trip.py::test_two",
    ]


def test_marker_on_a_class_applies_to_its_methods(project):
    """A class-level cassette marker gives every method that file and that record mode."""
    project.makepyfile(
        test_trip="""
        import pytest
        from fake_llm import FakeLLM, ask

        @pytest.mark.cassette("booking.jsonl", record_mode="once")
        class TestBooking:
            async def test_search(self, cassette):
                await cassette.llm(FakeLLM(), agent_name="a")(ask("search"))

            async def test_pay(self, cassette):
                await cassette.llm(FakeLLM(), agent_name="a")(ask("pay"))
        """
    )

    run(project).assert_outcomes(passed=2)

    assert sorted(c["messages"][0]["content"] for c in calls_in(project.path / "booking.jsonl")) == ["pay", "search"]


def test_marker_on_a_module_applies_to_its_tests_and_a_test_marker_wins(project):
    """pytestmark = cassette(...) covers the module; a marker on a test is closer and overrides it."""
    project.makepyfile(
        test_trip="""
        import pytest
        from fake_llm import FakeLLM, ask

        pytestmark = pytest.mark.cassette("module.jsonl", record_mode="once")

        async def test_module_wide(cassette):
            await cassette.llm(FakeLLM(), agent_name="a")(ask("module"))

        @pytest.mark.cassette("own.jsonl", record_mode="once")
        async def test_own(cassette):
            await cassette.llm(FakeLLM(), agent_name="a")(ask("own"))
        """
    )

    run(project).assert_outcomes(passed=2)

    assert jsonl_files(project.path) == ["module.jsonl", "own.jsonl"]


def test_marker_without_the_fixture_still_records_calls_made_through_it(project):
    """A marked test that gets its cassette through another fixture records to the marker's file."""
    project.makepyfile(
        test_trip="""
        import pytest
        from fake_llm import FakeLLM, ask

        @pytest.fixture
        def planner(cassette):
            return cassette.llm(FakeLLM(), agent_name="planner")

        @pytest.mark.cassette("planner.jsonl")
        async def test_plan(planner):
            await planner(ask("hi"))
        """
    )

    run(project, "--record-mode=once").assert_outcomes(passed=1)

    assert len(calls_in(project.path / "planner.jsonl")) == 1
