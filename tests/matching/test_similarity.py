"""Tests for matching.similarity: school vocabulary, score shape and range, top-k, explanations."""

import json
import re
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import similarity
from matching.evaluate import METHODS, evaluate, load_set
from matching.similarity import analyse, explain, load_thesaurus, normalise, score

REGISTER = [
    "RWInc trainer; leads SSP in a two-form entry primary.",  # 0 early reading
    "SEMH specialist from a PRU: de-escalation and trauma-informed practice.",  # 1 SEMH
    "EYFS lead in a nursery school; Development Matters and continuous provision.",  # 2 early years
    "Head of maths: GCSE results, Year 11 intervention.",  # 3 decoy: shares "Year"
    "MFL lead: French and Spanish at KS3.",  # 4 decoy
    "Attendance lead; reduced persistent absence via first-day calling.",  # 5 attendance
    "Trust SENCo: EHCP applications, graduated approach.",  # 6 SEND
    "Governance reviewer: skills audits, clerking, trustee training.",  # 7 governance
]


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("Year 1 screening check results fell and pupils can't blend.", 0),
        ("Our Y1 PSC pass rate dropped to 61% and too many pupils in KS1 can't blend.", 0),
        ("Several pupils are dysregulated at unstructured times; exclusions rising.", 1),
        ("Dysregulation at lunchtimes is our biggest behaviour issue.", 1),
        ("Only 52% of Reception reached a good level of development.", 2),
        ("Only 52% of Reception reached a GLD.", 2),
        ("Attendance: PA at 24% among disadvantaged pupils.", 5),
        ("New SENCo needs help with statutory assessment requests.", 6),
        ("Governors don't hold leaders to account.", 7),
        # how heads describe a need without its label
        ("Two Y1 children hitting staff and having meltdowns; rooms evacuated most days.", 1),
        ("School refusal and EBSA are rising and letters home aren't shifting anything.", 5),
        ("Pupil passports are wish lists and nothing is reviewed termly.", 6),
        ("Some Year 8 girls have stopped coming in; parents can't get them through the door.", 5),
        ("Our youngest children drift about during play, indoors and outdoors, and adults just supervise.", 2),
    ],
)
def test_need_finds_the_expertise_that_meets_it(request_text, expected):
    row = score([request_text], REGISTER).toarray()[0]
    assert int(np.argmax(row)) == expected, row


def test_plain_tfidf_misses_what_the_thesaurus_finds():
    # the reason the thesaurus exists: the screening check and SSP share no word
    plain = METHODS["tfidf"](["Year 1 screening check results fell."], REGISTER)[0]
    ours = score(["Year 1 screening check results fell."], REGISTER).toarray()[0]
    assert plain[0] == 0.0
    assert int(np.argmax(ours)) == 0


def test_shape_range_and_dtype():
    m = score(["phonics", "maths", ""], REGISTER)
    assert m.shape == (3, len(REGISTER))
    assert m.dtype == np.float64
    dense = m.toarray()
    assert dense.min() >= 0.0
    assert dense.max() <= 1.0


def test_empty_inputs_do_not_crash():
    assert score([], REGISTER).shape == (0, len(REGISTER))
    assert score(["phonics"], []).shape == (1, 0)
    assert score([""], [""]).nnz == 0
    assert score(["  ", "the and of"], ["", "!!!"]).nnz == 0
    assert explain("", "") == []
    assert explain("phonics", "") == []


def test_top_k_keeps_only_each_rows_best():
    requests = ["Y1 phonics and blending", "SEMH and exclusions", "maths GCSE and KS3 French"]
    full = score(requests, REGISTER).toarray()
    top = score(requests, REGISTER, top_k=2)
    assert top.shape == full.shape
    for i in range(len(requests)):
        row = top.getrow(i)
        assert row.nnz <= 2
        kept = row.toarray()[0]
        assert np.allclose(kept[row.indices], full[i, row.indices])
        assert kept[row.indices].min() >= np.sort(full[i])[-2] - 1e-12


def test_top_k_larger_than_register_is_fine():
    m = score(["phonics"], REGISTER, top_k=100)
    assert m.nnz == np.count_nonzero(score(["phonics"], REGISTER).toarray())


def test_chunking_does_not_change_scores():
    requests = ["Y1 phonics", "SEMH", "GLD", "PA", "EHCP", "governors"]
    one = score(requests, REGISTER).toarray()
    many = score(requests, REGISTER, chunk_rows=1).toarray()
    assert np.array_equal(one, many)
    one_k = score(requests, REGISTER, top_k=3).toarray()
    many_k = score(requests, REGISTER, top_k=3, chunk_rows=4).toarray()
    assert np.array_equal(one_k, many_k)


def test_deterministic():
    requests = ["Year 6 SATs arithmetic", "persistent absence", "RSE consultation with parents"]
    a = score(requests, REGISTER, top_k=3)
    b = score(requests, REGISTER, top_k=3)
    assert (a != b).nnz == 0
    assert explain(requests[1], REGISTER[5]) == explain(requests[1], REGISTER[5])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.text(max_size=60), min_size=1, max_size=4),
    st.lists(st.text(max_size=60), min_size=1, max_size=4),
)
def test_any_text_scores_within_unit_interval(requests, supporters):
    m = score(requests, supporters, top_k=2)
    assert m.shape == (len(requests), len(supporters))
    if m.nnz:
        assert m.data.min() > 0.0
        assert m.data.max() <= 1.0 + 1e-12


def test_identical_texts_score_one():
    text = "SEMH specialist; de-escalation and regulation plans"
    assert score([text], [text, "maths"]).toarray()[0, 0] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Y1 PSC", "year1 psc"),
        ("Year 1 and KS2", "year1 and ks2"),
        ("Key Stage 2 SATs", "ks2 sats"),
        ("Years 5 and 6", "year5 year6"),
        ("Year 10-11 intervention", "year10 year11 intervention"),
        ("children's behavior", "children behaviour"),
    ],
)
def test_normalise_school_shorthand(text, expected):
    assert normalise(text) == expected


def test_ambiguous_acronyms_count_only_in_capitals():
    thesaurus = load_thesaurus()
    assert "send" in analyse("SEND review", thesaurus).concept_terms
    assert "send" not in analyse("we send pupils home", thesaurus).concept_terms
    assert "re" in analyse("RE curriculum", thesaurus).concept_terms
    assert "re" not in analyse("we re-ran the audit", thesaurus).concept_terms


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("a barely verbal Reception child", "speech_language"),
        ("meltdowns at lunchtime", "semh"),
        ("EBSA and school refusal", "attendance"),
        ("letters home about attendance", "attendance"),
        ("first term as head", "headship"),
        ("data from our MIS", "data_systems"),
        ("managed moves and part-time timetables", "alternative_provision"),
        ("does this meet the harm threshold", "safeguarding"),
        # plain-English descriptions of a need, with no label or acronym in them
        ("a few Year 9 girls have stopped coming in at all", "attendance"),
        ("he feels sick every morning before school", "mental_health"),
        ("several children arrived from Syria with no previous schooling", "eal"),
        ("many can't follow a two-part instruction", "speech_language"),
        ("teachers don't spot who hasn't understood until the end", "pedagogy"),
        ("pupils in mixed-age classes on a two-year cycle", "small_schools"),
        ("the roof leaks and the boiler keeps failing", "estates"),
        ("Year 4 boy with ADHD who can't sit still", "adhd"),
        ("half-termly themes that don't build on previous learning", "curriculum"),
        # the heldout7 round: needs the thesaurus had no words for
        ("JCQ found the secure storage not up to standard", "exams"),
        ("cut six TA posts; union reps are asking about the consultation", "hr"),
        ("staff laptops are eight years old and we had a cyber incident", "it_infrastructure"),
        ("Reception intake down by a quarter, falling rolls", "admissions"),
        ("heads visiting each other's schools for peer review", "peer_review"),
        ("pupil with cerebral palsy who needs a hoist", "physical_medical"),
        ("the EYFS outdoor area is hardly used", "outdoor_learning"),
        ("has not spoken a word at school since September", "speech_language"),
        # the heldout8 round
        ("Year 7s arrive from 25 feeder primaries", "transition"),
        ("two teachers on long-term sick leave", "hr"),
        ("a girl who is losing her sight and needs large print", "physical_medical"),
        ("hardly any parents come to parents' evening", "families"),
        ("the timetable won't fit our curriculum model", "timetabling"),
        ("TAs sit next to the same SEND pupils every lesson", "send"),
        ("Year 12s resitting GCSE maths", "post16"),
        # the heldout9 round
        ("a parent complained about a nut allergy and our kitchen procedures", "catering"),
        ("a Year 10 student died in a road accident at the weekend", "mental_health"),
        ("two Year 10 boys found with large amounts of cash and second phones", "safeguarding"),
        ("she is now registered as sight impaired", "physical_medical"),
        ("we have never practised a lockdown", "estates"),
        # the heldout10 round
        ("someone clicked a link in a fake email and their account sent spam", "it_infrastructure"),
        ("the board is thinking of taking on a struggling primary: due diligence", "trust_growth"),
        ("parents coming in upset about money and housing", "families"),
        ("Year 2 can't hold a pencil and struggle with buttons and scissors", "physical_medical"),
        ("energy bills have tripled and we need a climate action plan", "sustainability"),
        ("a member of staff held a pupil and the parents complained", "semh"),
        ("our catering contract ends and we must retender it", "finance"),
        # the heldout11 round
        ("a SAR from a parent in dispute: 400 emails mention the child", "data_protection"),
        ("GCSE Lit: they retell the plot of Macbeth", "english_secondary"),
        ("only 11% took a language at GCSE", "mfl"),
        ("TAs sat next to the same child all day, doing the work for them", "send"),
        ("we are opening an ARP for pupils with ASC", "autism"),
        ("tiny village school with 3 classes", "small_schools"),
        # the heldout12 round
        ("9 CLA and PLAC, the PEPs are rushed", "disadvantaged"),
        ("a teacher with repeated short-term sickness and performance concerns", "hr"),
        ("in our Y3/4 classes children repeat units", "small_schools"),
        ("the office manager runs the dinners contract and hall hire", "finance"),
        ("30 Y9s did not get their option choices", "timetabling"),
        # the heldout13 round
        ("fist grip on the pencil and rocks on the carpet", "physical_medical"),
        ("a spiky profile: bright verbally but can't get anything onto paper", "dyslexia"),
        ("Y3 boy melting down daily and bolting from class", "semh"),
        ("a 5-year-old's sexualised play", "safeguarding"),
        ("nobody here knows how to teach a 12-year-old to read", "reading"),
        # the heldout14 round
        ("14 pupils at off-site providers; are the places even registered?", "alternative_provision"),
        ("can't appoint a maths teacher after three rounds of adverts", "hr"),
        ("expecting the call any week: put us through our paces", "school_improvement"),
        ("racist comments in Y8, now on TikTok", "pastoral"),
        ("losing half our Y11s to the FE college", "post16"),
        # the heldout15-16 round (seventh session)
        ("two Y10 boys found carrying blades; police think they run drugs", "safeguarding"),
        ("someone emailed a spreadsheet to the wrong parent", "data_protection"),
        ("Y10 choices keep clashing and we run too many tiny groups", "timetabling"),
        ("new staff are drowning and two have talked about leaving", "workload"),
        ("no assessor for exam concessions and thin evidence of normal way of working", "exams"),
        ("22 empty places in Reception: how do we attract families?", "admissions"),
        ("fewer families registered for free lunches than we'd expect", "catering"),
        ("each department plans its KS3 curriculum in isolation, with lots of repetition", "curriculum"),
        ("parents don't pick up the phone and had a bad time at school themselves", "families"),
        # the heldout17-18 round (eighth session)
        ("Y1 can't hold a conversation. Vocabulary so limited.", "speech_language"),
        ("Dad shouting at staff at the gate every morning", "families"),
        ("Stage 3 complaint, need governors for a panel", "governance"),
        ("auditors flagged our related-party transactions in the management letter", "finance"),
        ("a TA read the questions out in SATs week: do we tell STA about maladministration?", "ks2_tests"),
        ("LA wants us to take a Y10 who was PX'd down the road, under fair access", "alternative_provision"),
        ("staff had to physically hold a Y3 pupil and nobody is trained", "semh"),
        ("Type 1 diabetic starting Reception", "physical_medical"),
        ("child had a reaction to nuts in the dinner hall", "catering"),
        ("Just had the call. Tomorrow.", "school_improvement"),
        ("bought schemes for every subject and nothing links up", "curriculum"),
        ("Wi-Fi drops every afternoon", "it_infrastructure"),
        ("R/1/2 all in one class", "small_schools"),
        ("gas and electric bills doubled, energy contract up for renewal", "finance"),
        # the heldout19-20 round (eighth session)
        ("Y5 girl looks after mum who has MS, always late and exhausted", "families"),
        ("Y12 girl caring for mum, can't afford the bus. Bursary?", "post16"),
        ("mum moves between sites every few months and the children miss weeks", "grt"),
        ("little group in Y2 who can't sit, share or cope with any change", "nurture"),
        ("DofE is costing £60 a head and half drop out before the expedition", "enrichment"),
        ("physics post advertised 3 times, zero applicants", "hr"),
        ("staff member messaging a Y10 girl on Snapchat", "safeguarding"),
        ("Y10 lads running for older boys, one went missing overnight", "safeguarding"),
        ("starter in Sept on an insulin pump", "physical_medical"),
        ("parents raging that his target grade is an 8", "assessment"),
        ("snow forecast Tuesday and the lane is ungritted", "estates"),
        ("free places at breakfast club and only 6 turn up", "catering"),
        ("a photo of a child who must not be photographed went on Facebook", "data_protection"),
        ("how do other tiny schools cover PPA with only 2 teachers?", "small_schools"),
        # the heldout21-22 round (eighth session)
        ("Y3 boy threw a chair at the TA again", "semh"),
        ("mum moved into temp accommodation the other side of the city", "families"),
        ("parent says a TA grabbed her child by the arm and dragged him", "safeguarding"),
        ("Y8 lad sharing Tommy Robinson clips in the group chat", "safeguarding"),
        ("measles outbreak in two Reception classes", "physical_medical"),
        ("Y4 boy wetting himself most days", "physical_medical"),
        ("we paid £14k after a supplier's bank details were changed by a fraudster", "it_infrastructure"),
        ("Y6 girls sharing AI-made naked pictures of a classmate", "online_safety"),
        ("the council wants the hall as a polling station for the local elections", "finance"),
        ("Y2 classroom too hot in the hot weather and the windows don't open", "estates"),
        ("parent on Facebook calling a teacher racist, 300 comments", "communications"),
        ("dad wants every email that mentions his son", "data_protection"),
        ("dad turned up at pick-up and there's a non-mol order", "safeguarding"),
        # thesaurus terms with a contraction ("don t") never matched a text, which reads "dont"
        ("parents don't respond to letters", "families"),
        ("a Y2 boy who won't speak to adults", "speech_language"),
    ],
)
def test_symptom_phrases_name_their_concept(text, concept):
    assert concept in analyse(text, load_thesaurus()).concept_terms


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("NPQ programme and leadership programmes", "computing"),  # programme is not programming
        ("weekly instructional coaching cycles", "pe"),  # coaching is not sports coaches
        ("level 3 DSL training", "post16"),
        ("leadership pathways", "careers"),
        ("catch-up for older readers", "dyslexia"),
        ("we monitor attendance daily and want to prevent exclusions", "online_safety"),
        ("we monitor attendance daily and want to prevent exclusions", "safeguarding"),
        ("staff are overwhelmed", "autism"),
        ("they spend time in the toilets", "finance"),  # spend is not spending
        ("letter formation and fine motor skills", "attendance"),  # fine motor is not fines
        ("poor language on entry to Reception", "mfl"),  # language is not languages
        ("staff retention and workload", "post16"),  # staff, not sixth-form, retention
        ("we want them to read more", "curriculum"),  # them is not themes
        ("we will roll it out next term", "admissions"),  # roll is not the school roll
        ("things should pan out", "admissions"),  # PAN only in capitals
        ("disciplinary literacy in history", "hr"),  # not a staff disciplinary
        ("phonics workshops for parents", "dt"),  # not the D&T workshop
        ("a network of support for families", "it_infrastructure"),
        ("children cover their ears in assembly", "timetabling"),  # cover is not staff cover
        ("I am not at all sure where to start", "speech_language"),
        ("Year 7s find algebra hard", "transition"),  # a year group alone is not transition
        ("a calm climate for learning in every classroom", "sustainability"),
        ("TAs sat next to the same child all day", "ks2_tests"),  # sat is not SATs
        ("children growing up in poverty", "rshe"),  # "growing up and relationships" is RSHE
        ("fourteen appeals for Year 7 places", "disadvantaged"),  # places is not PLAC
        ("they never read the comments, let alone act on them", "finance"),  # let is not lettings
        ("the PP gap in KS2 reading is 30 points", "speech_language"),  # points is not pointing
        ("put us through our paces", "semh"),  # paces is not PACE
        ("the solar system and the carbon cycle in Year 5 science", "sustainability"),
        ("pupils with a growth mindset", "trust_growth"),
        ("e-safety lessons on strong passwords", "it_infrastructure"),  # only a weak hint
        ("pupils spent the day in isolation", "curriculum"),  # the isolation room, not planning alone
        ("we analyse pupil data every half term", "data_protection"),  # assessment, not a breach
        ("curriculum mapping across KS3", "geography"),  # mapping alone is not map skills
        ("the local area SEND inspection", "geography"),
        ("Dad sends complaints to the trust every week", "send"),  # sends is not SEND
        ("we had to hold a meeting with parents", "semh"),  # holding a meeting is not restraint
        ("two teachers signed off sick", "finance"),  # signed off sick is not an unsigned purchase
        ("the boards on the wall", "it_infrastructure"),
        ("we can't afford another TA next year", "post16"),
        ("we're federating with the school down the road", "grt"),
        ("we press on with the plan", "communications"),  # pressing on is not the press
        ("an outbreak of kindness in Year 4", "physical_medical"),
    ],
)
def test_ordinary_words_do_not_trigger_a_topic(text, wrong):
    analysed = analyse(text, load_thesaurus())
    assert wrong not in analysed.concept_terms
    assert wrong not in analysed.weak_terms


def test_every_thesaurus_term_is_written_as_a_text_reads_after_normalising():
    # a text's "don't" reads "dont", so a term written "don t" could never match anything
    data = json.loads(resources.files("matching").joinpath("data", "thesaurus.json").read_text("utf-8"))
    split = [
        term
        for concept in data["concepts"].values()
        for term in [*concept.get("terms", ()), *concept.get("weak", ())]
        if re.search(r"\b\w+n t\b", term)
    ]
    assert split == []


def test_stemming_exceptions_keep_different_words_apart():
    assert similarity.stem("themes") == similarity.stem("theme") != similarity.stem("them")
    assert similarity.stem("languages") != similarity.stem("language")
    thesaurus = load_thesaurus()
    assert "mfl" in analyse("KS2 languages: French", thesaurus).concept_terms


@pytest.mark.parametrize(
    ("text", "hinted"),
    [
        ("a complaint escalated to stage 3", "safeguarding"),  # escalating a complaint, not a child
        ("the football club renting the hall", "enrichment"),  # a club is not an enrichment programme
        ("Y12 girl can't afford the bus", "finance"),  # a family's hardship, not the school's budget
    ],
)
def test_words_with_two_meanings_only_hint(text, hinted):
    analysed = analyse(text, load_thesaurus())
    assert hinted in analysed.weak_terms and hinted not in analysed.concept_terms


def test_weak_terms_only_hint_at_a_concept():
    thesaurus = load_thesaurus()
    hinted = analyse("coaching and feedback", thesaurus)
    assert "pedagogy" in hinted.weak_terms and "pedagogy" not in hinted.concepts
    assert "broad:pedagogy" in hinted.concepts
    named = analyse("instructional coaching and feedback", thesaurus)
    assert "pedagogy" in named.concepts and "pedagogy" not in named.weak_terms
    # a specific match outranks a shared hint
    row = score(
        ["Middle leaders need coaching to lead their teams."],
        ["Instructional coaching lead; WalkThrus.", "NPQ facilitator: middle leader development."],
    ).toarray()[0]
    assert row[1] > row[0]
    assert explain("coaching for our teachers", "Instructional coaching lead; WalkThrus.")


def test_explain_names_the_shared_topic():
    why = explain(
        "Our Y1 PSC pass rate dropped to 61% and too many pupils in KS1 can't blend.",
        "RWInc trainer; leads SSP in a two-form entry primary.",
    )
    assert why
    assert why[0].startswith("early reading and phonics")
    assert "PSC" in why[0] and "SSP" in why[0]


def test_explain_respects_limit_and_is_empty_without_overlap():
    why = explain("GCSE English Language and KS3 writing", "GCSE English lead, extended writing", limit=2)
    assert 0 < len(why) <= 2
    assert explain("swimming and PE", "music hub and choir") == []


def test_explain_for_every_graded_3_pair_on_dev():
    data = load_set("dev")
    sup = dict(zip(data.supporter_ids, data.supporter_texts, strict=True))
    for text, grades in zip(data.request_texts, data.grades, strict=True):
        for sid, g in grades.items():
            if g == 3:
                assert explain(text, sup[sid]), (text, sup[sid])


def test_every_scored_pair_on_dev_explains_itself():
    data = load_set("dev")
    m = score(data.request_texts, data.supporter_texts).tocoo()
    for i, j in zip(m.row, m.col, strict=True):
        assert explain(data.request_texts[i], data.supporter_texts[j]), (i, j)


def test_dev_set_quality_does_not_regress():
    # measured 0.969 nDCG@5 and 1.000 P@1 on dev (docs/relevance.md); the margin allows small thesaurus edits
    data = load_set("dev")
    metrics = evaluate(score(data.request_texts, data.supporter_texts).toarray(), data)
    assert metrics["ndcg@5"] >= 0.95
    assert metrics["p@1"] >= 0.95


def test_thesaurus_is_well_formed():
    thesaurus = load_thesaurus()
    for concept in thesaurus.concepts.values():
        assert concept.label
        for linked in (*concept.parents, *concept.related):
            assert linked in thesaurus.concepts
    assert similarity.DEFAULT_WEIGHTS.shares()[0] > 0


def test_score_blocks_gives_each_pair_the_score_it_has_in_one_call():
    """National runs score block by block; a pair must not score differently because of its block."""
    import numpy as np

    from matching.similarity import score, score_blocks

    requests = [
        "Y1 phonics screening check down to 61%",
        "Persistent absence 24%, letters home are not working",
        "KS2 reading: pupils decode but do not understand",
        "Dysregulated pupils in KS1, several suspensions",
        "New DSL needs support with KCSIE and referrals",
    ]
    supporters = [
        "RWInc trainer; leads SSP and keep-up groups",
        "Attendance lead: first-day calling, EWO work",
        "SEMH specialist teacher, trauma-informed practice",
        "Trust safeguarding lead, DSL training",
        "Reading comprehension and fluency lead for KS2",
        "GCSE maths intervention",
    ]
    whole = score(requests, supporters).toarray()
    blocks = [(np.array([0, 2]), np.array([0, 4, 5])), (np.array([1, 3, 4]), np.array([1, 2, 3, 5]))]
    seen = 0
    for reqs, sups, row, col, val in score_blocks(requests, supporters, blocks):
        for i, j, v in zip(row, col, val, strict=True):
            assert v == pytest.approx(whole[reqs[i], sups[j]], abs=1e-12)
            seen += 1
    assert seen == sum(int((whole[np.ix_(r, s)] > 0).sum()) for r, s in blocks)


def test_meaning_block_reorders_pairs_but_never_creates_one():
    """The embedding block re-weighs pairs that share words or topics; a pair with neither stays 0."""
    from dataclasses import replace

    data = load_set("dev")
    with_meaning = score(data.request_texts, data.supporter_texts).tocoo()
    without = score(
        data.request_texts, data.supporter_texts, weights=replace(similarity.DEFAULT_WEIGHTS, meaning=0.0)
    ).tocoo()
    assert set(zip(with_meaning.row, with_meaning.col, strict=True)) == set(
        zip(without.row, without.col, strict=True)
    )
    assert not np.allclose(with_meaning.toarray(), without.toarray())  # the block is really on


def test_meaning_model_loads_from_its_wheel_without_the_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    similarity.forget_meaning_model()
    similarity.clear_meaning_cache()
    try:
        v = similarity.meaning_vectors(
            ["phonics screening check", "systematic synthetic phonics", "sixth form bursary", "phonics screening check"]
        )
    finally:
        similarity.forget_meaning_model()
    assert v.shape == (4, similarity.MEANING_DIM)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
    assert np.array_equal(v[0], v[3])


def _texts(name: str) -> list[str]:
    data = load_set(name)
    return data.request_texts + data.supporter_texts


def test_a_texts_meaning_does_not_depend_on_the_other_texts_of_the_run():
    """Embedded alone or beside texts of other lengths, a text gets the same vector to the last bit,
    so its pairs score the same in any run, chunk or block."""
    # ~350 texts: padded into shared batches, a few of them (3 here) would come out a bit different
    texts = [t for name in ("dev", "heldout", "heldout2", "heldout3") for t in _texts(name)]
    similarity.clear_meaning_cache()
    together = similarity.meaning_vectors(texts)
    for i, text in enumerate(texts):
        similarity.clear_meaning_cache()  # worked out again, alone, not read back from the cache
        assert np.array_equal(similarity.meaning_vectors([text])[0], together[i]), text


def test_meaning_vectors_are_worked_out_once_per_process_and_the_cache_is_bounded(monkeypatch):
    texts = ["Y1 phonics screening check results fell", "Trust SENCo: EHCP applications", "phonics"]
    similarity.clear_meaning_cache()
    first = similarity.meaning_vectors(texts)
    calls = []
    model = similarity._meaning_model()
    monkeypatch.setattr(model, "encode", lambda *a, **k: calls.append(a) or pytest.fail("embedded again"))
    again = similarity.meaning_vectors([texts[2], texts[0], "", texts[1]])
    assert calls == []
    assert np.array_equal(again, first[[2, 0, 0, 1]] * np.array([[1], [1], [0], [1]]))
    monkeypatch.undo()
    monkeypatch.setattr(similarity, "_MEANING_CACHE_TEXTS", 2)
    similarity.clear_meaning_cache()
    similarity.meaning_vectors(texts)
    assert list(similarity._MEANING_CACHE) == texts[:2]  # never more than the cap
    similarity.meaning_vectors([texts[2]])
    assert list(similarity._MEANING_CACHE) == [texts[1], texts[2]]  # the oldest goes first
    similarity.clear_meaning_cache()


def test_a_model_that_cannot_load_in_the_background_fails_the_run_with_its_own_error(monkeypatch):
    def broken():
        raise OSError("model.safetensors is missing")

    monkeypatch.setattr(similarity, "_load_encoder", broken)
    similarity.forget_meaning_model()
    similarity.clear_meaning_cache()
    try:
        with pytest.raises(OSError, match="model.safetensors is missing"):
            score(["phonics screening check"], ["RWInc trainer; leads SSP"])
    finally:
        similarity.forget_meaning_model()


def test_blank_texts_have_no_meaning_and_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = similarity.meaning_vectors(["", "   ", "phonics"])
        m = score(["", "phonics"], ["", "RWInc trainer"]).toarray()
    assert not np.any(v[:2]) and np.any(v[2])
    assert np.isfinite(m).all() and m[0].sum() == 0
