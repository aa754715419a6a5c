"""Which shelter categories a person may be placed in."""

import pytest

from shelter.domain import model

Category = model.Category


def test_a_girl_goes_where_girls_are_served() -> None:
    assert model.categories_for(True, "female", 0) == {Category.GIRLS}


def test_a_boy_goes_where_boys_are_served() -> None:
    assert model.categories_for(True, "male", 0) == {Category.BOYS}


@pytest.mark.parametrize("sex", ["other", "unknown"])
def test_a_child_of_other_or_unknown_sex_may_go_where_girls_or_boys_are_served(sex: str) -> None:
    assert model.categories_for(True, sex, 0) == {Category.GIRLS, Category.BOYS}


def test_a_woman_goes_to_a_womens_shelter() -> None:
    assert model.categories_for(False, "female", 0) == {Category.WOMEN}


def test_a_man_goes_to_a_mens_shelter() -> None:
    assert model.categories_for(False, "male", 0) == {Category.MEN}


@pytest.mark.parametrize("sex", ["other", "unknown"])
def test_an_adult_of_other_or_unknown_sex_may_go_to_a_womens_or_mens_shelter(sex: str) -> None:
    assert model.categories_for(False, sex, 0) == {Category.WOMEN, Category.MEN}


@pytest.mark.parametrize("children", [1, 2])
@pytest.mark.parametrize("sex", ["female", "male", "unknown"])
def test_an_adult_with_children_goes_to_a_family_shelter_only(sex: str, children: int) -> None:
    assert model.categories_for(False, sex, children) == {Category.FAMILIES}


def test_a_mother_of_16_is_still_placed_as_a_child() -> None:
    assert model.categories_for(True, "female", 1) == {Category.GIRLS}


@pytest.mark.parametrize("sex", ["female", "male", "other", "unknown"])
@pytest.mark.parametrize("children", [0, 1])
def test_a_child_only_ever_gets_child_categories(sex: str, children: int) -> None:
    assert model.categories_for(True, sex, children) <= model.CHILD_CATEGORIES
