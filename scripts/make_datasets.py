#!/usr/bin/env python3
"""Write frugalbench's shipped default datasets under datasets/.

Everything in the output is written by the project: hand-written sentences, or sentences
composed from hand-written parts with a fixed random seed. No existing corpus is copied.
Only the Python standard library is used, and re-running the script reproduces the files
byte for byte.

    python3 scripts/make_datasets.py           # (re)write the files in datasets/
    python3 scripts/make_datasets.py --check   # validate the files and that they are up to date

Files written:
    datasets/sentence-similarity.jsonl  {"sentence1", "sentence2", "score"}  score on 0-5 (STS-like)
    datasets/text-classification.jsonl  {"text", "label", "split"}          8 climate-claim labels
    datasets/text-generation.jsonl      {"prompt"[, "messages"]}            prompts for a small LM
    datasets/summarization.jsonl        {"document", "summary"}              hand-written news items
    datasets/question-answering.jsonl   {"context", "question", "answers"}   extractive, SQuAD-like
    datasets/text-generation-mc.jsonl   {"question", "choices", "answer"}   multiple-choice questions
    datasets/README.md                  description, counts, provenance, licence
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

SEED = 20250611
ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "datasets"

SIMILARITY_FILE = "sentence-similarity.jsonl"
CLASSIFICATION_FILE = "text-classification.jsonl"
GENERATION_FILE = "text-generation.jsonl"
SUMMARIZATION_FILE = "summarization.jsonl"
QA_FILE = "question-answering.jsonl"
README_FILE = "README.md"

# --------------------------------------------------------------------------------------------
# 1. Sentence similarity
# --------------------------------------------------------------------------------------------
#
# Hand-written pairs with hand-assigned gold scores on the STS 0-5 scale:
#   5     the two sentences mean the same thing
#   4.5+  paraphrases; at most a nuance differs
#   2.5-4 same topic, but a detail that matters (time, object, number, place) is changed
#   1-2.5 same domain, a different claim
#   0     unrelated (generated below by pairing sentences from unrelated domains)

SIMILARITY_PAIRS: dict[str, list[tuple[str, str, float]]] = {
    "cooking": [
        ("She chopped the onions and fried them in butter until they were golden.",
         "She fried the chopped onions in butter until they turned golden.", 5.0),
        ("The soup needs another ten minutes on a low heat.",
         "Leave the soup to simmer gently for ten more minutes.", 4.6),
        ("He always adds a pinch of salt to the pasta water.",
         "He never forgets to salt the water before cooking pasta.", 4.6),
        ("This bread recipe only uses flour, water, salt and yeast.",
         "The only ingredients in this bread are flour, water, salt and yeast.", 5.0),
        ("The cake burned because the oven was too hot.",
         "The oven temperature was set too high, so the cake got burnt.", 4.8),
        ("She chopped the onions and fried them in butter until they were golden.",
         "She chopped the garlic and fried it in olive oil until it was soft.", 2.8),
        ("The soup needs another ten minutes on a low heat.",
         "The stew needs another forty minutes in the oven.", 2.6),
        ("This bread recipe only uses flour, water, salt and yeast.",
         "This bread recipe uses flour, milk, sugar and yeast.", 3.0),
        ("He baked a chocolate cake for his daughter's birthday.",
         "He baked a lemon cake for his daughter's birthday.", 3.6),
        ("The restaurant serves breakfast until eleven on weekdays.",
         "The restaurant serves breakfast until noon at weekends.", 3.2),
        ("The cake burned because the oven was too hot.",
         "The recipe says to let the cake cool before slicing it.", 1.4),
        ("He always adds a pinch of salt to the pasta water.",
         "Fresh pasta cooks much faster than the dried kind.", 1.6),
        ("The restaurant serves breakfast until eleven on weekdays.",
         "The chef at that restaurant trained in Lyon.", 1.0),
        ("He baked a chocolate cake for his daughter's birthday.",
         "Dark chocolate has less sugar than milk chocolate.", 1.2),
    ],
    "sport": [
        ("The home team scored twice in the last five minutes to win the match.",
         "Two late goals in the final five minutes gave the home side the win.", 4.8),
        ("She has run a marathon on every continent except Antarctica.",
         "Apart from Antarctica, she has completed a marathon on every continent.", 5.0),
        ("The tennis final was postponed because of rain.",
         "Rain forced the organisers to delay the tennis final.", 4.8),
        ("He trains at the pool every morning before work.",
         "He goes to the pool to train each morning before he starts work.", 4.8),
        ("The referee sent off two players in the first half.",
         "Two players were shown red cards by the referee before half-time.", 4.6),
        ("The home team scored twice in the last five minutes to win the match.",
         "The away team scored twice in the last five minutes to draw the match.", 2.8),
        ("The tennis final was postponed because of rain.",
         "The tennis semi-final was postponed because of strong wind.", 3.0),
        ("She has run a marathon on every continent except Antarctica.",
         "She has run a half marathon in every country in Europe.", 2.6),
        ("The cyclists climbed three mountain passes on the fourth stage.",
         "The cyclists climbed two mountain passes on the ninth stage.", 3.4),
        ("The club signed a new goalkeeper for the coming season.",
         "The club signed a new striker for the coming season.", 3.4),
        ("The referee sent off two players in the first half.",
         "Ticket prices at the stadium went up again this year.", 1.0),
        ("He trains at the pool every morning before work.",
         "Swimming is one of the gentlest sports on the joints.", 1.6),
        ("The cyclists climbed three mountain passes on the fourth stage.",
         "The overall race leader wears a yellow jersey.", 1.6),
        ("The club signed a new goalkeeper for the coming season.",
         "The club's fans have sung the same song for a hundred years.", 1.0),
    ],
    "weather": [
        ("Heavy rain is expected across the north tomorrow afternoon.",
         "Tomorrow afternoon, the north should see heavy rainfall.", 5.0),
        ("It was so foggy this morning that the airport closed.",
         "Thick fog shut the airport this morning.", 4.6),
        ("Temperatures will drop below freezing overnight.",
         "Tonight it will get colder than zero degrees.", 4.6),
        ("The storm knocked down trees and cut power to thousands of homes.",
         "Thousands of homes lost electricity after the storm brought down trees.", 4.8),
        ("It hasn't rained here for six weeks.",
         "We have had no rain at all for six weeks.", 5.0),
        ("Heavy rain is expected across the north tomorrow afternoon.",
         "Light snow is expected across the north tomorrow morning.", 2.8),
        ("Temperatures will drop below freezing overnight.",
         "Temperatures will drop to around five degrees overnight.", 3.4),
        ("It hasn't rained here for six weeks.",
         "It hasn't rained here for three days.", 3.0),
        ("The storm knocked down trees and cut power to thousands of homes.",
         "The storm flooded roads and closed dozens of schools.", 2.6),
        ("A sunny weekend is forecast for the south coast.",
         "A wet and windy weekend is forecast for the south coast.", 2.8),
        ("It was so foggy this morning that the airport closed.",
         "Weather forecasts are more reliable three days ahead than ten.", 1.0),
        ("Heavy rain is expected across the north tomorrow afternoon.",
         "Rainfall is measured in millimetres with a simple gauge.", 1.4),
        ("It hasn't rained here for six weeks.",
         "The reservoirs are lower than they have been for years.", 2.2),
        ("A sunny weekend is forecast for the south coast.",
         "Summer in that region is usually dry and hot.", 1.8),
    ],
    "travel": [
        ("Our flight to Lisbon was delayed by three hours.",
         "The plane to Lisbon left three hours late.", 4.6),
        ("The hotel is a ten-minute walk from the main station.",
         "You can walk from the main station to the hotel in about ten minutes.", 5.0),
        ("Remember to bring your passport and a copy of your booking.",
         "Don't forget your passport and a printout of the reservation.", 4.6),
        ("The museum is closed on Mondays.",
         "On Mondays the museum does not open.", 5.0),
        ("We took the night train from Vienna to Venice.",
         "We travelled overnight by train from Vienna to Venice.", 4.8),
        ("Our flight to Lisbon was delayed by three hours.",
         "Our flight to Madrid was delayed by forty minutes.", 3.0),
        ("The hotel is a ten-minute walk from the main station.",
         "The hotel is a short bus ride from the airport.", 2.6),
        ("We took the night train from Vienna to Venice.",
         "We took the morning bus from Vienna to Budapest.", 2.8),
        ("The ferry to the island leaves every two hours in summer.",
         "The ferry to the island leaves twice a day in winter.", 3.2),
        ("They rented a small car to explore the coast.",
         "They rented bicycles to explore the coast.", 3.4),
        ("The museum is closed on Mondays.",
         "The museum is free on the first Sunday of the month.", 2.0),
        ("Remember to bring your passport and a copy of your booking.",
         "Many travellers now prefer short city breaks to long holidays.", 1.0),
        ("The ferry to the island leaves every two hours in summer.",
         "The island has only one village and a lighthouse.", 1.4),
        ("They rented a small car to explore the coast.",
         "Driving on the left took them a day or two to get used to.", 1.6),
    ],
    "science": [
        ("Water boils at a lower temperature at high altitude.",
         "At high altitudes, water reaches its boiling point at a lower temperature.", 5.0),
        ("The telescope detected a planet orbiting a nearby star.",
         "A planet circling a nearby star was spotted by the telescope.", 5.0),
        ("Plants use sunlight to turn carbon dioxide and water into sugar.",
         "Using the energy of sunlight, plants make sugar from water and carbon dioxide.", 4.8),
        ("The researchers repeated the experiment three times to check the result.",
         "To verify their finding, the team ran the experiment on three separate occasions.", 4.6),
        ("Sound travels faster in water than in air.",
         "Sound moves more quickly through water than through air.", 5.0),
        ("The telescope detected a planet orbiting a nearby star.",
         "The telescope detected a comet passing close to the Sun.", 2.6),
        ("Sound travels faster in water than in air.",
         "Light travels faster in air than in water.", 2.8),
        ("The researchers repeated the experiment three times to check the result.",
         "The researchers repeated the survey twice to check the result.", 3.2),
        ("The vaccine trial enrolled four thousand volunteers.",
         "The vaccine trial enrolled four hundred volunteers.", 3.6),
        ("Water boils at a lower temperature at high altitude.",
         "Water freezes at a lower temperature when salt is added to it.", 2.2),
        ("Plants use sunlight to turn carbon dioxide and water into sugar.",
         "Some deep-sea bacteria live without any sunlight at all.", 1.6),
        ("The vaccine trial enrolled four thousand volunteers.",
         "The journal publishes all of its articles free of charge.", 1.0),
        ("The telescope detected a planet orbiting a nearby star.",
         "The Moon is slowly moving away from the Earth.", 1.2),
    ],
    "work": [
        ("The meeting has been moved to Thursday at ten.",
         "We've rescheduled the meeting for ten o'clock on Thursday.", 5.0),
        ("She handed in her notice after six years at the company.",
         "After six years with the firm, she resigned.", 4.6),
        ("Please send me the report by the end of the day.",
         "I need the report from you before the day is over.", 4.6),
        ("Most of the team works from home on Fridays.",
         "On Fridays, the majority of the team work remotely.", 4.8),
        ("The new manager wants shorter meetings.",
         "The new boss would like meetings to take less time.", 4.8),
        ("The meeting has been moved to Thursday at ten.",
         "The meeting has been moved to Friday at two.", 3.4),
        ("She handed in her notice after six years at the company.",
         "She was promoted after six years at the company.", 2.6),
        ("Please send me the report by the end of the day.",
         "Please send me the slides by Monday morning.", 2.8),
        ("Most of the team works from home on Fridays.",
         "Only a few of the team work from home on Mondays.", 2.8),
        ("The company is hiring three new engineers this spring.",
         "The company is hiring ten new salespeople this autumn.", 2.8),
        ("The new manager wants shorter meetings.",
         "The office kitchen was redecorated last summer.", 1.0),
        ("The company is hiring three new engineers this spring.",
         "Staff turnover in the industry has fallen this year.", 1.6),
        ("She handed in her notice after six years at the company.",
         "Her colleagues organised a leaving party for her.", 1.8),
    ],
    "animals": [
        ("The cat sleeps on the windowsill all afternoon.",
         "All afternoon the cat dozes on the window ledge.", 4.8),
        ("A fox was seen crossing the road near the school.",
         "Someone spotted a fox crossing the road close to the school.", 4.8),
        ("Our dog barks whenever the postman arrives.",
         "Every time the postman comes, our dog starts barking.", 5.0),
        ("Honeybees communicate the location of flowers by dancing.",
         "Bees tell each other where to find flowers through a kind of dance.", 4.6),
        ("The zoo's elephant gave birth to a healthy calf.",
         "A healthy baby elephant was born at the zoo.", 4.8),
        ("The cat sleeps on the windowsill all afternoon.",
         "The dog sleeps on the sofa all morning.", 2.6),
        ("A fox was seen crossing the road near the school.",
         "A deer was seen crossing the road near the farm.", 3.0),
        ("The zoo's elephant gave birth to a healthy calf.",
         "The zoo's giraffe gave birth to twins.", 2.8),
        ("Our dog barks whenever the postman arrives.",
         "Our dog hides under the bed whenever there is thunder.", 2.6),
        ("The farmer keeps forty sheep and two goats.",
         "The farmer keeps four hundred sheep and no goats.", 3.2),
        ("Honeybees communicate the location of flowers by dancing.",
         "Some birds fly thousands of kilometres every winter.", 1.2),
        ("The cat sleeps on the windowsill all afternoon.",
         "Cats were domesticated thousands of years ago.", 1.6),
        ("The farmer keeps forty sheep and two goats.",
         "Wolves have returned to several European forests.", 1.0),
    ],
    "music": [
        ("The band played their new album from start to finish.",
         "The group performed the whole of their new record in order.", 4.6),
        ("She has been learning the piano for three years.",
         "She started piano lessons three years ago and is still taking them.", 4.6),
        ("The concert was cancelled because the singer was ill.",
         "The singer's illness led to the concert being called off.", 4.8),
        ("Tickets for the festival sold out in ten minutes.",
         "The festival sold all its tickets within ten minutes.", 5.0),
        ("He plays bass in a jazz trio at weekends.",
         "At weekends he is the bass player in a jazz trio.", 5.0),
        ("The concert was cancelled because the singer was ill.",
         "The concert was delayed because the guitarist was late.", 2.8),
        ("Tickets for the festival sold out in ten minutes.",
         "Tickets for the festival sold out in two days.", 3.6),
        ("He plays bass in a jazz trio at weekends.",
         "He plays drums in a rock band on weekdays.", 2.6),
        ("She has been learning the piano for three years.",
         "She has been learning the violin for three months.", 3.0),
        ("The orchestra will perform Beethoven's Ninth in May.",
         "The orchestra will perform Mahler's Second in June.", 3.0),
        ("The band played their new album from start to finish.",
         "Vinyl records have become popular again.", 1.2),
        ("The orchestra will perform Beethoven's Ninth in May.",
         "Beethoven kept composing after he lost his hearing.", 1.8),
        ("Tickets for the festival sold out in ten minutes.",
         "The festival's main stage is powered by solar panels.", 1.2),
    ],
    "computing": [
        ("Restart your computer to finish installing the update.",
         "The update will finish installing once you reboot the computer.", 4.8),
        ("The website went down because of a sudden surge in traffic.",
         "A sudden spike in visitors crashed the website.", 4.6),
        ("I forgot my password and had to reset it.",
         "I had to reset my password because I couldn't remember it.", 5.0),
        ("This laptop's battery lasts about ten hours.",
         "On a full charge, the laptop runs for roughly ten hours.", 4.8),
        ("Always back up your files before upgrading the system.",
         "Before you upgrade the system, make a backup of your files.", 5.0),
        ("This laptop's battery lasts about ten hours.",
         "This phone's battery lasts about two days.", 2.6),
        ("I forgot my password and had to reset it.",
         "I forgot my username and had to contact support.", 3.0),
        ("The website went down because of a sudden surge in traffic.",
         "The website went down because its security certificate expired.", 3.0),
        ("The program crashes when the file is larger than two gigabytes.",
         "The program slows down when the file is larger than ten gigabytes.", 3.2),
        ("Restart your computer to finish installing the update.",
         "Restart your router to fix the connection problem.", 2.2),
        ("Always back up your files before upgrading the system.",
         "Solid-state drives have no moving parts.", 1.2),
        ("The program crashes when the file is larger than two gigabytes.",
         "The program is written in Rust and runs on Linux.", 1.8),
        ("This laptop's battery lasts about ten hours.",
         "Keyboards with mechanical switches are louder than most.", 1.0),
    ],
    "health": [
        ("Drinking enough water helps prevent headaches.",
         "Staying well hydrated can keep headaches away.", 4.6),
        ("The doctor told him to rest his knee for two weeks.",
         "His doctor advised him to keep the weight off his knee for a fortnight.", 4.6),
        ("Regular exercise lowers the risk of heart disease.",
         "Exercising regularly reduces your chances of developing heart disease.", 5.0),
        ("She caught a cold from her son.",
         "Her son gave her his cold.", 4.8),
        ("Adults need seven to nine hours of sleep a night.",
         "Grown-ups should sleep between seven and nine hours each night.", 5.0),
        ("The doctor told him to rest his knee for two weeks.",
         "The doctor told him to rest his back for two days.", 3.2),
        ("Adults need seven to nine hours of sleep a night.",
         "Teenagers need eight to ten hours of sleep a night.", 3.2),
        ("Regular exercise lowers the risk of heart disease.",
         "Regular exercise lowers the risk of depression.", 3.2),
        ("She caught a cold from her son.",
         "She caught the flu at work.", 2.8),
        ("The clinic offers free flu jabs to the over-65s.",
         "The clinic offers free eye tests to children.", 2.8),
        ("Drinking enough water helps prevent headaches.",
         "The hospital car park charges by the hour.", 1.0),
        ("The clinic offers free flu jabs to the over-65s.",
         "Washing your hands is one of the best ways to stop infections spreading.", 1.8),
        ("Regular exercise lowers the risk of heart disease.",
         "Too much salt in the diet raises blood pressure.", 2.2),
    ],
    "home": [
        ("The washing machine leaks every time it spins.",
         "Water leaks out of the washing machine during each spin cycle.", 4.8),
        ("We painted the kitchen a pale yellow last weekend.",
         "Last weekend we gave the kitchen a coat of pale yellow paint.", 5.0),
        ("Could you take the bins out before you go to bed?",
         "Please put the rubbish out before going to bed.", 4.6),
        ("The heating comes on automatically at six in the morning.",
         "At six each morning the heating switches on by itself.", 5.0),
        ("The landlord finally fixed the broken window.",
         "The broken window was at last repaired by the landlord.", 5.0),
        ("We painted the kitchen a pale yellow last weekend.",
         "We painted the bedroom dark blue last month.", 2.8),
        ("The heating comes on automatically at six in the morning.",
         "The lights come on automatically at six in the evening.", 2.6),
        ("The washing machine leaks every time it spins.",
         "The dishwasher leaks every time it drains.", 3.0),
        ("The landlord finally fixed the broken window.",
         "The landlord still hasn't fixed the broken boiler.", 2.6),
        ("Could you take the bins out before you go to bed?",
         "Recycling is collected every other Tuesday.", 2.0),
        ("We painted the kitchen a pale yellow last weekend.",
         "The houses on our street were built in the 1930s.", 1.0),
        ("The heating comes on automatically at six in the morning.",
         "Insulating the loft cuts heating bills.", 1.8),
    ],
    "shopping": [
        ("The shop is offering twenty percent off all shoes this week.",
         "All shoes are twenty percent cheaper at the shop this week.", 5.0),
        ("He paid for the groceries with his phone.",
         "He used his phone to pay for the food shopping.", 4.8),
        ("The bank raised its interest rate on savings accounts.",
         "Savings accounts at the bank now earn a higher interest rate.", 4.8),
        ("I returned the jacket because it was too small.",
         "The jacket was too tight, so I took it back to the shop.", 4.6),
        ("Prices at the supermarket have gone up again.",
         "The supermarket has raised its prices once more.", 5.0),
        ("The shop is offering twenty percent off all shoes this week.",
         "The shop is offering half price on all coats this weekend.", 3.0),
        ("I returned the jacket because it was too small.",
         "I returned the jacket because the zip was broken.", 3.2),
        ("The bank raised its interest rate on savings accounts.",
         "The bank cut its interest rate on mortgages.", 2.6),
        ("He paid for the groceries with his phone.",
         "He paid for the petrol in cash.", 2.6),
        ("Prices at the supermarket have gone up again.",
         "The supermarket opened a new branch near the station.", 1.8),
        ("The bank raised its interest rate on savings accounts.",
         "Many small towns have lost their last bank branch.", 1.4),
        ("I returned the jacket because it was too small.",
         "Second-hand clothes shops are busier than ever.", 1.2),
    ],
    "education": [
        ("The exam results will be published on Friday.",
         "Exam results come out on Friday.", 5.0),
        ("Most students found the final question the hardest.",
         "The last question was the most difficult one for the majority of students.", 5.0),
        ("The school has banned phones in classrooms.",
         "Mobile phones are no longer allowed in lessons at the school.", 4.6),
        ("He is studying chemistry at university.",
         "He is a chemistry student at university.", 5.0),
        ("The library stays open late during exam season.",
         "During exams, the library has longer opening hours.", 4.6),
        ("The exam results will be published on Friday.",
         "The exam timetable will be published next month.", 2.6),
        ("He is studying chemistry at university.",
         "He is studying history at college.", 2.8),
        ("The school has banned phones in classrooms.",
         "The school has banned fizzy drinks in the canteen.", 2.6),
        ("The course lasts twelve weeks and ends with a project.",
         "The course lasts six weeks and ends with a written exam.", 3.0),
        ("Most students found the final question the hardest.",
         "Class sizes in the region have grown over the past decade.", 1.0),
        ("The library stays open late during exam season.",
         "The university was founded in the fifteenth century.", 1.0),
        ("The course lasts twelve weeks and ends with a project.",
         "Online courses let people learn at their own pace.", 1.6),
    ],
    "transport": [
        ("The bridge will be closed to cars for repairs until June.",
         "Cars won't be able to use the bridge until June while it is being repaired.", 4.8),
        ("Buses run every fifteen minutes during the day.",
         "In the daytime there is a bus every quarter of an hour.", 5.0),
        ("A new cycle lane has opened along the river.",
         "The riverside now has a new bike lane.", 4.6),
        ("Traffic was at a standstill after the accident on the motorway.",
         "The motorway crash brought traffic to a complete stop.", 4.6),
        ("The city plans to plant ten thousand trees by 2030.",
         "By 2030 the city intends to have planted ten thousand trees.", 5.0),
        ("Buses run every fifteen minutes during the day.",
         "Trams run every thirty minutes at night.", 2.8),
        ("The bridge will be closed to cars for repairs until June.",
         "The tunnel will be closed to lorries for repairs until March.", 3.0),
        ("The city plans to plant ten thousand trees by 2030.",
         "The city plans to plant five thousand trees by 2040.", 3.4),
        ("A new cycle lane has opened along the river.",
         "A new footbridge has opened across the river.", 2.8),
        ("Traffic was at a standstill after the accident on the motorway.",
         "Parking in the old town is free after six.", 1.2),
        ("Buses run every fifteen minutes during the day.",
         "The city's first underground line opened over a century ago.", 1.4),
        ("A new cycle lane has opened along the river.",
         "Fewer young people are learning to drive.", 1.2),
    ],
    "garden": [
        ("Water the tomatoes in the evening when it is cooler.",
         "It is best to water tomato plants in the cooler evening hours.", 4.8),
        ("The roses in the front garden have started to bloom.",
         "The front garden's roses are beginning to flower.", 5.0),
        ("Snails have eaten most of the lettuce.",
         "Most of the lettuce has been eaten by snails.", 5.0),
        ("Plant the bulbs in autumn and they will flower in spring.",
         "Bulbs put in the ground in autumn come up as flowers in spring.", 4.6),
        ("Water the tomatoes in the evening when it is cooler.",
         "Water the seedlings in the morning before it gets hot.", 3.0),
        ("The roses in the front garden have started to bloom.",
         "The tulips in the front garden have started to bloom.", 3.6),
        ("Snails have eaten most of the lettuce.",
         "Birds have eaten most of the cherries.", 2.8),
        ("The path through the woods is muddy after the rain.",
         "The path along the cliffs is icy after the frost.", 2.6),
        ("Plant the bulbs in autumn and they will flower in spring.",
         "Compost improves the soil and reduces waste.", 1.4),
        ("The path through the woods is muddy after the rain.",
         "Oak trees can live for several hundred years.", 1.2),
        ("Snails have eaten most of the lettuce.",
         "Hedgehogs are welcome visitors in many gardens.", 1.6),
    ],
    "arts": [
        ("The film won the award for best screenplay.",
         "The movie took home the prize for best screenplay.", 5.0),
        ("I couldn't put the novel down until I had finished it.",
         "The novel was so gripping that I read it in one go.", 4.6),
        ("The gallery is showing early paintings by the artist.",
         "The artist's early paintings are on display at the gallery.", 5.0),
        ("The sequel was not as good as the first film.",
         "The second film was worse than the original.", 4.8),
        ("The film won the award for best screenplay.",
         "The film won the award for best soundtrack.", 3.6),
        ("The gallery is showing early paintings by the artist.",
         "The gallery is selling late sculptures by the artist.", 2.8),
        ("The play runs for two hours with one interval.",
         "The play runs for three hours with two intervals.", 3.4),
        ("She reads a detective novel every week.",
         "She reads a collection of poems every month.", 2.8),
        ("I couldn't put the novel down until I had finished it.",
         "Paperbacks are cheaper to print than hardbacks.", 1.2),
        ("The sequel was not as good as the first film.",
         "Cinema attendance fell during the winter.", 1.2),
        ("The play runs for two hours with one interval.",
         "The theatre was rebuilt after a fire in 1990.", 1.4),
    ],
}

# Domains close enough that a cross pair could share a topic; unrelated pairs never mix them.
DOMAIN_GROUP = {
    "cooking": "food",
    "shopping": "money",
    "work": "money",
    "weather": "outdoors",
    "garden": "outdoors",
    "travel": "moving",
    "transport": "moving",
    "sport": "body",
    "health": "body",
    "science": "knowledge",
    "education": "knowledge",
    "computing": "computing",
    "animals": "animals",
    "music": "culture",
    "arts": "culture",
    "home": "home",
}

UNRELATED_PAIRS = 64

STOPWORDS = set(
    """about after again all also always another around because been before being between
    both could does each every from have into just last less many more most much need needs
    never next only other over same should since some than that their them then there these
    they this those through until very were what when where which while will with would your
    first three hours years""".split()
)


def content_words(sentence: str) -> set[str]:
    """Lower-cased words of four letters or more that are not stopwords (crude stemming)."""
    words = re.findall(r"[a-z]+", sentence.lower())
    return {w.rstrip("s") for w in words if len(w) >= 4 and w not in STOPWORDS}


def similarity_rows() -> list[dict]:
    rng = random.Random(SEED + 1)
    pairs: list[tuple[str, str, float]] = []
    sentences: list[tuple[str, str]] = []  # (domain, sentence)
    seen_sentences: set[str] = set()
    for domain, domain_pairs in SIMILARITY_PAIRS.items():
        for s1, s2, score in domain_pairs:
            pairs.append((s1, s2, score))
            for s in (s1, s2):
                if s not in seen_sentences:
                    seen_sentences.add(s)
                    sentences.append((domain, s))

    # Unrelated pairs: sentences from different domain groups with no content word in common,
    # each sentence used at most once across these pairs.
    pool = sentences[:]
    rng.shuffle(pool)
    used: set[int] = set()
    unrelated: list[tuple[str, str, float]] = []
    for i, (d1, s1) in enumerate(pool):
        if len(unrelated) == UNRELATED_PAIRS:
            break
        if i in used:
            continue
        for j in range(i + 1, len(pool)):
            d2, s2 = pool[j]
            if j in used or DOMAIN_GROUP[d1] == DOMAIN_GROUP[d2]:
                continue
            if content_words(s1) & content_words(s2):
                continue
            used.update((i, j))
            unrelated.append((s1, s2, 0.0))
            break
    if len(unrelated) != UNRELATED_PAIRS:
        raise SystemExit(f"could only form {len(unrelated)} unrelated pairs")
    pairs.extend(unrelated)

    rows = []
    for s1, s2, score in pairs:
        if rng.random() < 0.5:
            s1, s2 = s2, s1
        rows.append({"sentence1": s1, "sentence2": s2, "score": score})
    rng.shuffle(rows)
    return rows


# --------------------------------------------------------------------------------------------
# 2. Text classification: 8 climate-claim labels
# --------------------------------------------------------------------------------------------
#
# Each label has its own train templates and test templates (never shared), so test rows are
# not reworded copies of train rows. A template's "[a|b|c]" groups are alternatives; each
# row picks one alternative per group. Claims in labels 1-7 are contrarian claims BY DESIGN:
# they are synthetic examples of claim types for benchmarking, not statements of fact.

LABELS = [
    "0_not_relevant",
    "1_not_happening",
    "2_not_human",
    "3_not_bad",
    "4_solutions_harmful_unnecessary",
    "5_science_unreliable",
    "6_proponents_biased",
    "7_fossil_fuels_needed",
]
ROWS_PER_LABEL = 50
TEST_PER_LABEL = 15

CLAIM_TEMPLATES: dict[str, dict[str, list[str]]] = {
    "0_not_relevant": {
        "train": [
            "The [regional|national] grid operator said [wind farms|solar parks] supplied [a third|a quarter|nearly half] of the electricity used [last month|over the winter].",
            "[The council|City officials] will hold a public meeting about the new flood defences [next Tuesday|on 14 March|later this month].",
            "[Delegates|Negotiators] from [nearly 200|more than 190] countries have arrived for [two weeks|ten days] of climate talks, [the organisers said|according to the host government].",
            "The company [announced|confirmed] that its new [battery|heat pump] factory will employ [around 800|about 1,200|600] people when it opens in [2026|2027].",
            "[Scientists will launch|The space agency is launching] a satellite [next year|this autumn] to [map sea ice|measure methane from space|track forest cover].",
            "The [energy ministry's|agency's] annual report [will be presented|is due to be presented] at the [energy conference|ministers' meeting] in [June|the autumn].",
            "[Volunteers|Local residents] planted [two thousand|several hundred] trees along the [canal|river bank|old railway line] on Saturday morning.",
            "Household electricity prices [will stay unchanged|are set to fall slightly] [from April|next quarter], the regulator said on [Monday|Wednesday].",
            "[The minister|A government spokesperson] said the consultation on [offshore wind licences|new insulation rules for buildings] [will close|closes] at the end of [May|the month].",
            "The museum's new exhibition [traces|looks at] the history of [coal mining|the steam engine|the whaling industry] in the region.",
            "[Farmers|Growers] in the valley [began|started] the [grape|wheat] harvest [on Monday|this week], [helped by dry weather|a few days after the rain stopped].",
            "[The university|A research group] has received [a grant|new funding] to study [ocean currents|cloud formation|carbon in farm soils] [over five years|in the Arctic].",
            "The [airline|rail operator] said it will [publish|release] its [annual sustainability report|fuel use figures] [in September|next week].",
            "[Engineers|Repair crews] are [replacing|upgrading] [power lines|substations] in the [north of the county|coastal district], so some roads will close [overnight|for a week].",
            "[Several|Dozens of] schools [took part in|joined] [an energy-saving week|a cycle-to-school day] [organised by the council|this month].",
        ],
        "test": [
            "The [weather service|national forecaster] has issued a [yellow|heat] warning for [the weekend|Thursday and Friday] [across the south|in eastern areas].",
            "A new [electric bus route|tram line] [between the station and the hospital|to the airport] [opens|will open] in [January|the spring].",
            "[The charity|An environmental group] [is holding|will hold] a [beach clean-up|photo competition] [next month|this weekend], and anyone can [take part|sign up online].",
            "[Shares in|The share price of] the [utility|energy company] [rose|fell] [2|3] percent after it [reported|published] its [quarterly|half-year] results.",
            "[Researchers|A team of geologists] drilled ice cores [in Greenland|in Antarctica] [this summer|last season] [for a study of ancient air|to study past climates].",
            "The [summit|conference] [ended|closed] [on Friday|late on Sunday] [with an agreement to meet again next year|after two weeks of negotiations].",
            "[The port|The harbour authority] [will install|plans to install] [shore power|charging points] for [ferries|cargo ships] [by 2028|within three years].",
            "[A new|The annual] [survey|poll] asked [2,000|1,500] people how they heat their homes [and how much they pay|and whether they plan to switch].",
        ],
    },
    "1_not_happening": {
        "train": [
            "The planet [has not warmed|hasn't warmed at all] since [1998|the late nineties|the start of this century], whatever the headlines say.",
            "Arctic sea ice is [back to normal|growing again|thicker than it was ten years ago], so where is [this meltdown we were promised|the melting everyone keeps warning about]?",
            "[We just had|This was] the [coldest|snowiest] [winter|spring] in [decades|forty years]. So much for global warming.",
            "Sea levels [are not rising at all|have barely moved in a century|haven't risen in living memory]; the old harbour steps are [exactly where they always were|still above the water].",
            "The so-called warming trend [is an artefact of|only exists because of] [thermometers placed next to car parks|weather stations swallowed by growing cities].",
            "[Polar bear numbers are up|There are more polar bears now than in the 1960s], which is hardly what you'd expect if the Arctic [were melting|was disappearing].",
            "Glaciers [in the Alps|in Norway|in the Himalayas] [are advancing|have been growing], not retreating, [if you look at the actual measurements|according to the people who live there].",
            "There is no [climate crisis|warming trend]: [temperatures today are the same as in the 1930s|the 1930s were hotter than anything we've seen since].",
            "[Satellite data show|The satellite record shows] [no significant warming|a flat line] for [two decades|the last eighteen years].",
            "Antarctica [is gaining ice|has been getting colder], [and nobody on the news wants to mention it|yet we're told it's collapsing].",
            "[The Maldives|Those Pacific islands] were supposed to be underwater by now, [and instead they're building new airports|but they are actually growing].",
            "[Record cold|Heavy snow] in [Texas|Spain|Saudi Arabia] [this year|last week] shows the climate isn't warming at all.",
            "Hurricanes are [no more frequent|no stronger] than they were a hundred years ago, [whatever the activists claim|and the records prove it].",
            "We're heading into [a new ice age|a period of global cooling], not a warming one, [as the sun goes quiet|and the evidence is piling up].",
            "Spring [arrives|comes] at the same time as it did in my grandfather's day; the climate hasn't changed [a bit|at all|one iota].",
        ],
        "test": [
            "[Where I live|In our village], the snow [comes|arrives] every winter just like it always has — this warming [simply isn't happening|is a fiction].",
            "Global temperatures [peaked|stopped rising] [years ago|around 2016] and have been [falling|flat] ever since.",
            "[The ice caps aren't melting|Greenland's ice sheet is not shrinking]; [the latest figures|last year's measurements] show more ice than before.",
            "[Wildfires|Droughts] [are no more common|are actually rarer] today than [a century ago|in the 1930s].",
            "The oceans [aren't warming|have not warmed] in any measurable way, [the buoys show nothing|despite what you read].",
            "My town's [weather records|rain gauge readings] go back [150 years|a century] and show [no change at all|nothing unusual].",
            "[Cold records|New low temperature records] are being broken [all over the world|every winter], so the warming story [doesn't add up|falls apart].",
            "Sea level [has been falling|dropped] [in many places|along our coast] [over the past decade|since the nineties], so the panic is unfounded.",
        ],
    },
    "2_not_human": {
        "train": [
            "The [climate|Earth's climate] has always changed, [long before there were cars or factories|with or without people][, and it always will|].",
            "[The sun|Solar activity] is what really drives the climate, not the [tiny amount of|trace of] CO2 that humans add.",
            "Carbon dioxide is only [0.04 percent|four hundredths of one percent] of the atmosphere; it can't [possibly control the weather|be what drives temperatures].",
            "[Volcanoes|Underwater volcanoes] put out far more CO2 than [all human activity|every car and power station] combined.",
            "The warming we've seen is [just|simply] the natural recovery from the Little Ice Age, [nothing more|and has nothing to do with us].",
            "[Ocean cycles|Natural ocean cycles like El Niño] explain the temperature changes [far better than|much better than] human emissions do.",
            "[In Roman times|During the Medieval Warm Period] it was [warmer than today|as warm as now], and [vines grew in northern England|nobody was driving cars].",
            "[Cosmic rays|Changes in cloud cover] are the real driver of the climate; CO2 [is a bystander|follows temperature, it doesn't lead it].",
            "[Ice cores show|The ice-core record shows] that CO2 rises [hundreds of years after|about 800 years after] temperature, so it can't be the cause.",
            "Water vapour is [by far the biggest|the dominant] greenhouse gas, and [humans have nothing to do with it|we don't control it].",
            "Human emissions are [a rounding error|a drop in the ocean] next to [the natural carbon cycle|what the oceans and forests release every year].",
            "[Earth's orbit sets the climate, and it has|The Milankovitch cycles set the climate, and they have] nothing to do with [our emissions|anything we burn|the CO2 we add].",
            "[Mars is|Other planets in the solar system are] warming too, [so it must be the sun|and there are no SUVs there].",
            "[The warming we keep hearing about|Any change in temperature] is [part of a natural cycle|a natural fluctuation] that has happened [many times before|for millions of years].",
            "CO2's warming effect is [saturated|already maxed out], so adding more [makes no difference|won't change temperatures].",
        ],
        "test": [
            "[Temperatures have gone up and down|The climate has changed] [for millions of years|since long before the industrial revolution], so why blame people now?",
            "[The warming since 1850|Recent warming] [comes from|is down to] [natural variability|changes in the sun's output], [not fossil fuels|not our cars].",
            "[Greenland was green|The Vikings farmed Greenland] [a thousand years ago|in the Middle Ages], [which proves the climate changes on its own|and nobody was burning coal then].",
            "[Humans produce|We emit] only [about 3 percent|a tiny share] of the CO2 that enters the air each year; nature does the rest.",
            "[Geothermal heat|Heat from deep inside the Earth] is melting the ice [from below|in West Antarctica], not carbon dioxide.",
            "The Earth [was much warmer|had far more CO2] [when dinosaurs roamed|millions of years ago], so today's levels [are nothing special|are not our doing].",
            "It's the sun: [sunspot cycles|solar cycles] match the temperature record [far better than CO2 does|almost perfectly].",
            "[Ocean currents|Shifts in the jet stream] [are responsible for|explain] [the warm years|any recent heat], not human activity.",
        ],
    },
    "3_not_bad": {
        "train": [
            "CO2 is [plant food|what plants breathe]; more of it means [bigger harvests|faster-growing crops] and a greener planet.",
            "A [slightly|somewhat] warmer world would [mean fewer cold deaths|save lives], since cold kills far more people than heat.",
            "[Satellite images|Satellites] show the Earth is [getting greener|greening], [thanks to more CO2|which is good news].",
            "A couple of degrees of warming [would be welcome|is nothing to fear] [in countries like ours|for anyone who lives through our winters].",
            "Longer growing seasons in [Canada|Siberia|the far north] will [open up new farmland|be a boon for farmers].",
            "Polar bears [are doing just fine|will adapt], [just as they always have|having survived warmer periods before].",
            "[Species|Animals and plants] have adapted to [far bigger changes|changing climates] before, and [they will again|nature will cope].",
            "[Ice-free Arctic summers|An open Arctic] would [create new shipping routes|shorten trade routes] and [boost trade|cut fuel costs].",
            "[Humanity has|People have] always adapted to the climate; [a bit of warming|a few degrees] is [not a catastrophe|perfectly manageable].",
            "[Warmer weather means|A warmer climate will bring] [lower heating bills|cheaper winters] and [longer summers|more time outdoors].",
            "Ocean acidification is [overblown|exaggerated]; sea life [has coped|coped] with [far more CO2|much higher levels] in the past.",
            "[Crop yields keep rising|World food production keeps hitting new records] [every decade|year after year], so where is the harm from climate change?",
            "Deaths from [weather disasters|storms and floods] have [fallen|dropped] [by more than 90 percent|dramatically] over the past century.",
            "Sea levels rise [so slowly|at such a gentle pace] that [people can easily adapt|any town can build a wall in time].",
            "[Coral reefs|Corals] survived [much warmer oceans|ice ages and hot spells] [for millions of years|in the past]; they'll [bounce back|be fine].",
        ],
        "test": [
            "Extra carbon dioxide is [actually good|a benefit] for [forests|agriculture][, as any greenhouse grower knows| — ask any gardener].",
            "[Climate change|A warmer planet] [will make|could make] [northern countries|places like Scotland] [more pleasant to live in|better for farming].",
            "[Malaria|Dengue fever] was common in [England|northern Europe] [during the Little Ice Age|centuries ago], so a warmer climate won't [bring it back|spread it] [the way the scare stories say|as the alarmists claim].",
            "[Wine growers in England are thriving|Vineyards in Denmark are booming] thanks to the warmer climate[, which is hardly a disaster.|. So what exactly is the problem?]",
            "[Life|Nature] [flourished|thrived] when the Earth was [warmer|hotter] than today, so there's no reason to panic.",
            "A warmer climate [means more rain for dry regions|will bring more rain to the deserts], which [helps|is good for] farmers.",
            "[Even if it gets a couple of degrees warmer|If temperatures rise by a degree or two], we'll just [fit air conditioning|plant different crops] and get on with life.",
            "[The Sahel has become greener|The southern edge of the Sahara has been greening] [in recent decades|since the eighties] — [a benefit of more CO2|good news] that nobody mentions.",
        ],
    },
    "4_solutions_harmful_unnecessary": {
        "train": [
            "Net zero will [wreck|destroy] the economy and [push millions into fuel poverty|send energy bills through the roof].",
            "[Wind turbines|Wind farms] [kill thousands of birds every year|slaughter birds and bats] and [don't even work when the wind drops|ruin the countryside].",
            "Banning [petrol cars|gas boilers] [by 2030|by 2035] is [madness|unaffordable] for ordinary families.",
            "Electric cars [are no greener|aren't any cleaner] than diesel once you count [the mining for their batteries|the coal that charges them].",
            "[Carbon taxes|Green levies] [hurt the poor most|hit ordinary workers hardest] while [changing nothing|doing nothing for the climate].",
            "[Our country|Britain|Germany] produces [only about 1 percent|a tiny fraction] of global emissions, so [cutting ours|our sacrifices] won't make any difference.",
            "[Solar farms|Solar panels] are [covering|eating up] [good farmland|fields] that [we need for food|should be growing crops].",
            "Heat pumps [don't work|are useless] in [old houses|cold weather] and cost [a fortune|far too much] to install.",
            "[Climate policies|Green rules] are [driving factories|pushing industry] [abroad|to China], where emissions are even higher.",
            "[Renewables|Wind and solar] will [make the grid unstable|cause blackouts] [because they are so unreliable|the moment the weather changes].",
            "[Telling people to eat less meat|Taxing meat] is [an attack on farmers|pointless], and [it won't change the climate one bit|it will ruin rural communities].",
            "Spending [billions|trillions] on [cutting emissions|net zero] is a waste of money when [adapting would cost far less|we could simply adapt].",
            "[Biofuels destroy forests and push up food prices|Burning wood pellets does more harm than the coal it replaces], [and nobody in government will admit it|yet the subsidies keep flowing].",
            "[Recycling|Banning plastic straws|A low-emission zone] does nothing for the climate and [just makes life harder|only punishes ordinary people].",
            "[Electric car batteries|Old solar panels|Turbine blades] can't be recycled and will [pile up in landfill|become a mountain of toxic waste].",
        ],
        "test": [
            "[The green transition|Going green] will cost [every household|families] [thousands a year|a fortune] and [deliver nothing|achieve nothing] in return.",
            "[Offshore wind farms|Big wind projects] [harm whales|disturb marine life] and [drive up electricity prices|push up bills] for everyone.",
            "[Mining lithium|Cobalt mining] for [batteries|electric cars] [does more damage|is worse for the planet] than [the oil it replaces|the emissions it saves].",
            "[We|Rich countries] could [shut down every power station|stop all emissions tomorrow] and it [wouldn't change the temperature|would make no measurable difference].",
            "[Climate rules|Emissions targets] are [killing|destroying] jobs in [our steel towns|manufacturing] [for no benefit|with nothing to show for it].",
            "Forcing [people|homeowners] to [insulate|replace their boilers] is [an expensive mistake|government overreach] that [few can afford|most families can't pay for].",
            "[Dimming the sun|Geoengineering] and [carbon capture|pumping CO2 underground] are [dangerous fantasies|expensive gimmicks] [we don't need|that solve nothing].",
            "[Green energy subsidies|Renewable subsidies] [line the pockets of|are a gift to] [developers|big investors] while [pensioners freeze|bills keep climbing].",
        ],
    },
    "5_science_unreliable": {
        "train": [
            "Climate models [have been wrong|got it wrong] [every single time|for thirty years]; why should we trust them now?",
            "The [97 percent consensus|so-called consensus] is [a myth|a fiction], [based on a flawed survey|cooked up from a handful of papers].",
            "[Scientists|Agencies] keep [adjusting|tampering with] [the temperature record|old thermometer readings] to make the past look cooler.",
            "The hockey stick graph [was debunked years ago|was discredited long ago], yet it's still [taught in schools|used to scare people].",
            "[Tree rings|Proxy data such as tree rings] can't tell us [what the temperature was a thousand years ago|anything reliable about past temperatures].",
            "[They|Scientists] can't even predict the weather [next week|for next Tuesday], so how can [they|anyone] predict the climate in [2100|fifty years]?",
            "[Temperature stations|Weather stations] are [badly sited|poorly placed] [next to air conditioners|beside tarmac and exhausts], so the data are [worthless|meaningless].",
            "Climate science [is not settled|is far from settled]; [real science|good science] [is never settled|is about questioning].",
            "[The leaked emails|Climategate] showed [researchers hiding data|scientists manipulating the results], and [nobody was punished|nothing changed].",
            "[CO2 measurements|The CO2 readings] from Mauna Loa [can't be trusted|are suspect] because they are taken [next to an active volcano|on the side of a volcano].",
            "[The models|Climate models] [run too hot|overestimate warming] [by a factor of two|by a wide margin], [every time they are checked|as the satellites show].",
            "[Peer review|The journal system] in climate science [is a closed club|is rigged], so [dissenting papers never get published|sceptics are shut out].",
            "[Predictions|Forecasts] of an ice-free Arctic by [2013|2016] [were wrong|came to nothing], which shows [how unreliable the science is|the experts don't know].",
            "No one can measure the average temperature of [the whole planet|the entire Earth] [to a tenth of a degree|that precisely].",
            "[The climate record|Temperature data] [before 1950|from the nineteenth century] is [too patchy|far too sparse] to [say anything|draw any conclusions] about trends.",
        ],
        "test": [
            "[The so-called experts|Climate researchers] [have changed their story|changed their minds] [from cooling to warming|too many times] — [so why believe them now?|that's not science.]",
            "[Half|Most] of the [ocean|sea] temperature data [from before the buoys|from before 2000] [is guesswork|came from buckets thrown off ships].",
            "[Computer simulations|Models] [are not evidence|aren't data]; [you can make them say anything|they only show what they were programmed to show].",
            "[The IPCC|The UN climate panel] [ignores|leaves out] [any study|research] that [doesn't fit the narrative|questions the consensus].",
            "Records from [hundreds of rural stations|remote stations] [were dropped|quietly disappeared] from the global dataset, and [suddenly the warming grew|the warming appeared].",
            "Every [climate prediction|forecast of doom] [I've heard|made] [in my lifetime|since the eighties] has [failed|turned out wrong].",
            "[There is|There's] no [real|actual] [experiment|controlled test] that [proves|shows] CO2 [warms|heats] the planet; [it's all theory|it's all assumptions].",
            "[Satellite|Ocean] temperature [records|series] have been [revised|rewritten] [so often|so many times] that [nobody can trust them|they're meaningless].",
        ],
    },
    "6_proponents_biased": {
        "train": [
            "Climate scientists [only say what they say|push the scare] [to keep the research grants flowing|because their funding depends on it].",
            "[Campaigners who fly around in private jets|Celebrities who own huge mansions] [keep lecturing us about our carbon footprint|love telling us to cut back].",
            "The whole [climate agenda|net zero project] is [a scheme|a plan] [to raise taxes|to control how we live] and [grow government|give the UN more power].",
            "[The media|Newspapers|TV channels] [only report the scary stories|hype every heatwave] [to sell papers|because fear gets clicks].",
            "[Green groups|Environmental charities] are [funded by|in bed with] [billionaires|wind developers] who [profit from|stand to make a fortune from] the panic.",
            "[Teenage climate strikers are|Young climate activists are] being used by [adults with a political agenda|people who want power].",
            "[Climate change|The climate scare] is [a hoax|a con] [cooked up|dreamed up] by people who want to sell us [electric cars|solar panels].",
            "[The UN uses|Global elites use] climate [as an excuse|as cover] [for world government|to redistribute wealth].",
            "[Scientists who question the consensus|Sceptical researchers] [lose their jobs|are silenced] and get [smeared as deniers|called names], [so of course everyone agrees|so the debate is rigged].",
            "[Politicians|Ministers] [pretend to care about|talk about] the climate [to win votes|for headlines], then [fly to summits in private jets|go back to business as usual].",
            "[The climate movement|Climate activism] [is really about socialism, not the environment|is just a front for anti-capitalism|has nothing to do with the weather and everything to do with politics].",
            "[The IPCC is|Climate conferences are] [run by|dominated by] [bureaucrats|activists] [with a political axe to grind|who decided the answer before the research].",
            "[Banks|Investment funds] [push|promote] green policies only because they [profit from|make money on] carbon trading.",
            "Every [report|study] [is written|gets written] [to fit what the funders want to hear|by people whose careers depend on alarm].",
            "[Activists who glue themselves to roads|Protesters blocking motorways] [don't care about the planet|just want attention] and [are paid to do it|are funded by rich donors].",
        ],
        "test": [
            "[Follow the money|It's all about money]: [the climate industry|climate research] is worth [billions|a fortune] to [the people who run it|those who keep the fear going].",
            "[Journalists|Reporters] [never ask|won't ask] [hard questions|tough questions] because they [are activists themselves|already believe the story].",
            "[The experts|These so-called experts] [telling us to give up our cars|who want to ban cheap flights] [take more flights than anyone|are the worst polluters of all].",
            "[Climate alarm|The scare] [is|has become] [a career|big business] for [academics|consultants], so [they'll never admit they're wrong|they need it to continue].",
            "[World leaders|The elites at Davos] [want us to eat insects|want to take away our cars] while they [carry on as they please|keep their yachts].",
            "[Green politicians|Environmental campaigners] [use|exploit] [children's fears|every flood] to [push their agenda|gain power].",
            "[The science|Climate research] is [bought and paid for|paid for] by [governments that want new taxes|people with an agenda].",
            "[Wind and solar companies|Renewable firms] [lobby|pay] [scientists|think tanks] to [exaggerate|talk up] the danger [so they can sell more|to win contracts].",
        ],
    },
    "7_fossil_fuels_needed": {
        "train": [
            "[Coal|Gas] is what keeps the lights on when the wind [stops blowing|drops] and the sun [goes down|sets].",
            "[Billions of people|Poor countries] need [cheap energy|affordable fossil fuels] to [escape poverty|develop], [and that means coal|and oil is the only option].",
            "[Oil and gas|Fossil fuels] [built|made] the modern world, and [we won't be able to run it without them|we will go on depending on them] [for decades to come|for the foreseeable future].",
            "[Natural gas|Gas] will remain [essential|vital] for [heating homes|industry] [for decades|long after 2050].",
            "You can't make [steel|cement|fertiliser] without [coal|fossil fuels], [so net zero is a fantasy|full stop].",
            "[Our oil industry|The North Sea] [supports|provides] [hundreds of thousands of jobs|good jobs] and [billions in tax|energy security]; [shutting it down|closing it] would be [reckless|madness].",
            "[Fossil fuels are|Oil and gas are] in almost everything we use, [from phones to fertiliser|from medicines to plastics], [so you can't just phase them out|and there is no substitute].",
            "[Cheap|Reliable] energy from [coal|gas] has lifted [hundreds of millions|billions] of people out of poverty in [China|India|Asia].",
            "[We should|We need to] [drill more|open new oil fields] at home [rather than import|instead of buying] [from hostile regimes|from abroad].",
            "[Aviation|Shipping|Farming] [simply cannot|can't] run on [batteries|wind power], [so we'll need oil|so oil is here to stay] [for a long time|for decades].",
            "[Africa has|Developing countries have] [every right|the right] to use [coal|gas] to [grow|industrialise], [just as Europe did|like the West did].",
            "[Modern coal plants|New gas plants] are [clean|efficient] [and reliable|and cheap], [unlike|far better than] [wind farms|solar panels].",
            "[Energy security|Keeping the lights on] [depends|will depend] on [gas|gas and coal] [for the next fifty years|whatever the targets say].",
            "Without [diesel|fossil fuels], [food would stop reaching the shops|farms would stop working] [within days|within a week].",
            "[The world's energy demand|Demand for energy] [keeps growing|is growing fast], and [only fossil fuels|only oil, gas and coal] can [meet it|keep up].",
        ],
        "test": [
            "[Renewables|Wind and solar] [can't|could never] [replace|match] [the reliability|the sheer scale] of [coal and gas|fossil fuels] [any time soon|in our lifetime].",
            "[Fracking|Shale gas] [brought|has brought] [energy independence|cheap energy] to [America|the US], and [we should follow|we'd be fools not to copy it].",
            "[Petrol|Oil] [is|remains] [the cheapest|the most practical] way to [move goods|power transport], and [that won't change|nothing comes close].",
            "[Hospitals|Factories] [need|depend on] [power|electricity] [around the clock|24 hours a day], [which only gas can guarantee|and that means fossil fuels].",
            "[Closing|Shutting] [our|the] [coal mines|gas fields] [just means|only means] [importing|buying] [more|the same] fuel from [abroad|other countries].",
            "[Plastics|Fertilisers] are made from [oil and gas|fossil fuels]; [without them|if we stop drilling], [food production would collapse|modern life would grind to a halt].",
            "[Coal|Gas] [is still|remains] [the backbone|the foundation] of [our grid|the power system] and [will be|should be] for [decades|years to come].",
            "[India|Indonesia] [cannot|can't] [grow its economy|lift its people out of poverty] without [burning coal|more coal power], [whatever the West says|and no one should stop it].",
        ],
    },
}

ALTERNATIVES = re.compile(r"\[([^\[\]]*)\]")


def template_options(template: str) -> list[list[str]]:
    """The alternatives of each "[a|b]" group of a template, in order."""
    return [group.split("|") for group in ALTERNATIVES.findall(template)]


def fill(template: str, choice: tuple[str, ...]) -> str:
    """Substitute one alternative per group and tidy spacing and capitalisation."""
    parts = iter(choice)
    text = ALTERNATIVES.sub(lambda _m: next(parts), template)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r" ([,.;:?!])", r"\1", text)
    return text[0].upper() + text[1:]


def expansions(template: str, count: int, rng: random.Random) -> list[str]:
    """`count` distinct fillings of a template, spread out: each new one differs from the
    ones already picked in as many groups as possible."""
    combos = list(itertools.product(*template_options(template)))
    rng.shuffle(combos)
    picked: list[tuple[str, ...]] = []
    texts: list[str] = []
    while len(texts) < count:
        best, best_distance = None, -1
        for combo in combos:
            if combo in picked:
                continue
            distance = min(
                (sum(a != b for a, b in zip(combo, other)) for other in picked),
                default=len(combo),
            )
            if distance > best_distance:
                best, best_distance = combo, distance
        if best is None:
            raise SystemExit(f"template has fewer than {count} fillings: {template}")
        picked.append(best)
        text = fill(template, best)
        if text not in texts:
            texts.append(text)
    return texts


def spread(total: int, templates: list[str], rng: random.Random) -> list[int]:
    """How many rows each template gives so that the counts add up to `total`."""
    base, extra = divmod(total, len(templates))
    lucky = set(rng.sample(range(len(templates)), extra))
    return [base + (1 if i in lucky else 0) for i in range(len(templates))]


def classification_rows() -> list[dict]:
    rng = random.Random(SEED + 2)
    rows: list[dict] = []
    for label in LABELS:
        for split, total in (("train", ROWS_PER_LABEL - TEST_PER_LABEL), ("test", TEST_PER_LABEL)):
            templates = CLAIM_TEMPLATES[label][split]
            for template, n in zip(templates, spread(total, templates, rng)):
                for text in expansions(template, n, rng):
                    rows.append({"text": text, "label": label, "split": split})
    rng.shuffle(rows)
    return rows


# --------------------------------------------------------------------------------------------
# 3. Text generation prompts
# --------------------------------------------------------------------------------------------

QUESTIONS = [
    "What is the capital of Canada?",
    "How many legs does a spider have?",
    "Why do leaves change colour in autumn?",
    "What causes the seasons on Earth?",
    "Who wrote the play Romeo and Juliet?",
    "How far is the Moon from the Earth?",
    "What is the boiling point of water in Fahrenheit?",
    "Why is the sky blue?",
    "What do bees do with nectar?",
    "How do aeroplanes stay in the air?",
    "What is the largest ocean on Earth?",
    "Why do we have leap years?",
    "What is the difference between weather and climate?",
    "How does a fridge keep food cold?",
    "What language is spoken in Brazil?",
    "How many minutes are there in a day?",
    "What is the main ingredient in guacamole?",
    "Why do cats purr?",
    "What is a prime number?",
    "Which planet is known as the Red Planet?",
    "What is the tallest mountain in the world?",
    "How long does light from the Sun take to reach the Earth?",
    "At what temperature does water freeze in Celsius?",
    "Why does bread go stale?",
    "What does the heart do?",
    "How do vaccines protect us from disease?",
    "What is the difference between a virus and a bacterium?",
    "Why does ice float on water?",
    "What does a thermostat do?",
    "How does rain form?",
    "What is inflation, in simple terms?",
    "Why do onions make people cry?",
    "Who painted the Mona Lisa?",
    "What is the smallest country in the world?",
    "How many players does a football team have on the pitch?",
    "What does DNA stand for?",
    "Why do we need sleep?",
    "How fast does sound travel in air?",
    "How do magnets work?",
    "What is a kilowatt-hour?",
    "Where do rainbows come from?",
    "What is the chemical symbol for gold?",
    "Why is the sea salty?",
    "How do bats find their way in the dark?",
    "What are the three states of matter?",
    "Why do we yawn?",
    "How does a compass work?",
    "What is the longest river in Africa?",
    "Is a tomato a fruit or a vegetable?",
    "What does a solar panel do?",
    "How many bones are there in the adult human body?",
    "Why do some birds migrate?",
    "What is the difference between a lake and a pond?",
    "I'm planning a walk in the hills on Saturday and the forecast says strong wind and showers. What should I pack to stay safe and comfortable?",
    "My houseplant's leaves are turning yellow at the edges, even though I water it every week. What could be wrong?",
    "I have eggs, spinach, a little cheese and some stale bread. What simple dinner could I make?",
    "My sourdough starter smells a bit like nail varnish. Is that normal, and what should I do about it?",
    "Our team's meetings keep running over time. What is one simple rule that could help?",
    "I want to start running, but I get out of breath after two minutes. How should I begin?",
    "My bike chain keeps slipping when I pedal hard uphill. What is the most likely cause?",
]

ELI5_TOPICS = [
    "what electricity is",
    "how plants drink water",
    "what gravity does",
    "why we have day and night",
    "how the internet works",
    "what a computer program is",
    "why the Moon seems to change shape",
    "how a seed becomes a tree",
    "what germs are",
    "why we need to brush our teeth",
    "how money works",
    "what a volcano is",
    "how fish breathe underwater",
    "why the sea has waves",
    "what clouds are made of",
    "how a bicycle stays upright",
    "what an echo is",
    "how our eyes see colours",
    "why ice melts",
    "what recycling means",
    "how a battery stores energy",
    "what stars are",
    "why dogs wag their tails",
    "how bread rises",
    "what a map is for",
    "where thunder comes from",
    "why our hearts beat",
    "why we get hungry",
    "how bees make honey",
    "what a fossil is",
]

ELI5_FORMS = [
    "Explain {t} to a five-year-old.",
    "Explain like I'm five: {t}.",
    "How would you explain {t} to a young child?",
    "In words a small child would understand, explain {t}.",
]

PARAGRAPHS = [
    "The village bakery opened in 1952 and has been run by the same family ever since. Every morning at four, the ovens are lit, and the first loaves go in before the street lights turn off. The bakery is known for its rye bread, made with a starter that the founder brought from his home town. Last year his grandson took over and added a small café, but he insists the recipes will never change.",
    "Researchers followed two hundred office workers for a year to see how short walks affected their mood. Those who took a ten-minute walk after lunch said they felt less tired in the afternoon, and their managers rated them as slightly more productive. The effect was strongest in winter. The authors warn that the study was small and that people who chose to walk may already have been healthier, but they say the habit costs nothing. Several companies in the study have since started encouraging lunchtime walks, and one now holds its afternoon meetings outdoors whenever the weather allows.",
    "Heavy snow closed most mountain roads on Tuesday, leaving several villages cut off for nearly two days. Snowploughs worked through the night, and a helicopter delivered medicine to an elderly resident who had run out. By Thursday morning the main pass had reopened, although drivers were told to carry chains. Local shops said bread and milk sold out quickly, and the school stayed closed until the end of the week.",
    "Octopuses are among the most intelligent animals without a backbone. They can open jars, escape from tanks and recognise individual people. Each of their eight arms contains a large share of their nerve cells, so an arm can explore and react without waiting for instructions from the brain. Despite these abilities, most octopuses live for only one or two years, and they spend much of that time alone.",
    "The town council has voted to turn the old railway line into a path for walking and cycling. The route runs for twelve kilometres through fields and woodland and will connect three villages to the market town. Work will start in the spring and should take about eighteen months. Some farmers are worried about dogs and litter, so the council has promised fences, bins and signs along the way.",
    "When you learn a new language, a little practice every day beats a long session once a week. Ten or fifteen minutes a day keeps new words fresh, while a single two-hour session tends to be forgotten within days. Listening to simple podcasts, labelling objects around the house and writing a few sentences about your day are easy ways to practise. Speaking early, even badly, builds confidence faster than waiting until you feel ready.",
    "A small software company tried a four-day working week for six months. Staff worked the same hours per day but took Fridays off. The company tracked sales, customer complaints and sick days. At the end of the trial, sales were unchanged, complaints had fallen slightly and sick days had dropped by a third. The directors decided to keep the new schedule, though they admitted that it might not suit every kind of business. Staff said the extra day gave them time for family, hobbies and errands, and two employees who had planned to leave decided to stay.",
    "The city's first public library opened in 1887 with just four thousand books, most of them given by a local merchant. Borrowers paid a small yearly fee and could take out only one book at a time. Today the library holds more than half a million items, including films and music, and membership is free. Its reading room, with tall windows and green lamps, looks almost exactly as it did on the day it opened.",
    "Tomatoes are easy to grow at home if they get enough sun. Plant them in a warm spot once the risk of frost has passed, and water them deeply but not too often. Tall varieties need a cane or string for support. Pinching out the small side shoots helps the plant put its energy into fruit. Most gardeners start picking in late summer, and green tomatoes left at the end of the season can ripen indoors on a windowsill.",
    "The museum's new dinosaur hall opened on Saturday after three years of work. Its centrepiece is an almost complete skeleton found by a farmer who noticed bones sticking out of a riverbank. Scientists spent two years cleaning and assembling the fossil, which is about seventy million years old. Visitors can watch staff at work through a glass wall, and children can dig for copies of bones in a sandpit next to the exit. Entry is free for under-twelves during the first month, and the museum expects record numbers of visitors over the school holidays.",
    "Many people throw away food simply because they misread the dates on the packet. A 'use by' date is about safety and should be followed, especially for meat and fish. A 'best before' date is about quality: food past that date may be less fresh but is usually still safe to eat. Planning meals, checking the fridge before shopping and freezing leftovers can cut household food waste and save money.",
    "The football club's young goalkeeper made her debut on Sunday after the first-choice keeper was injured in the warm-up. She was told she would play only twenty minutes before kick-off. Despite the short notice, she saved a penalty in the second half and kept a clean sheet as her team won one-nil. After the match, the coach said she had trained for this moment for years and had simply not had the chance until now.",
    "Password managers keep all your passwords in an encrypted vault protected by one strong master password. They can create a long random password for each website, so a leak at one site does not expose your other accounts. Most can fill in login forms automatically on your phone and computer. The main risk is forgetting the master password, so experts suggest writing it down and keeping it somewhere safe at home.",
    "The yearly garden bird count took place last weekend, with more than three thousand volunteers watching their gardens for one hour each. Sparrows were again the most common species, followed by blue tits and starlings. Goldfinches continued to rise, probably helped by people putting out seed feeders. The organisers say the results help scientists see long-term trends, even though a single weekend's count can be affected by the weather.",
    "Our building's lift has been out of service for three weeks because a replacement part has to be shipped from abroad. Residents on the upper floors, including several elderly tenants and parents with prams, have had to use the stairs. The management company says the part should arrive next week and the repair will take two days. In the meantime, a neighbour has organised a rota to help carry shopping upstairs.",
    "Honey almost never goes off. Archaeologists have found pots of honey in ancient tombs that were still edible after thousands of years. Honey contains very little water and is slightly acidic, and bees add an enzyme that produces small amounts of hydrogen peroxide, so bacteria struggle to survive in it. Over time honey may crystallise and turn cloudy, but standing the jar in warm water makes it runny again.",
    "The company's customer support team used to answer every email in the order it arrived. Urgent problems, such as customers who could not log in, sometimes waited two days behind simple questions about invoices. Last month the team started tagging each email by urgency as it arrives. Log-in problems are now answered within two hours on average, while routine questions still get a reply within a day.",
    "Walking in a forest for an hour can lower stress, according to several small studies. People who walked among trees had lower heart rates and said they felt calmer than those who walked the same distance along a busy road. Scientists are not sure whether the effect comes from the quiet, the green colours or the smell of the trees. Either way, city parks seem to offer some of the same benefits.",
    "The night train between the two capitals returned last December after a gap of fifteen years. It leaves at eight in the evening and arrives just after seven the next morning. Passengers can choose between seats, shared couchettes and private cabins with a small washbasin. The operator says most trains in the first months were full, and it plans to add a third weekly departure in the summer.",
    "A kettle uses a lot of power, but only for a few minutes. Boiling only the water you need, rather than a full kettle, saves both time and energy. Descaling it regularly also helps, because a layer of limescale on the heating element makes it work harder. Some people pour the rest of the boiled water into a flask, so that a second cup of tea later does not need the kettle at all.",
    "The orchestra's youngest member is a fourteen-year-old cellist who joined after an open audition in the spring. She practises for three hours a day around her school lessons and travels by train to rehearsals every Saturday. At her first concert she sat in the back row, but the conductor has already given her a short solo in next month's programme. Her teachers say her calm on stage is unusual for someone so young.",
    "Backing up your photos is easier than most people think. The simplest rule is to keep three copies: the original on your phone or computer, a second on an external drive at home, and a third somewhere else, such as a cloud service or a drive at a relative's house. That way a single accident, like a fire or a stolen bag, cannot wipe out all your memories at once.",
]

SUMMARY_FORMS = [
    "Summarise this paragraph in one sentence:\n\n{p}",
    "Give a short title for the following paragraph.\n\n{p}",
    "What is the main point of this text?\n\n{p}",
    "Summarize in a few words: {p}",
    "Read the paragraph below and say in one sentence what it is about.\n\n{p}",
    "{p}\n\nTL;DR:",
]
SECOND_SUMMARIES = 8  # paragraphs used twice, each time with a different instruction

HAIKU_TOPICS = [
    "the first snow of winter",
    "a cat asleep in the sun",
    "the sea at night",
    "a morning cup of coffee",
    "falling autumn leaves",
    "a busy train station",
    "a summer thunderstorm",
    "the full moon",
    "spring rain",
    "an old bicycle",
    "a quiet library",
    "fresh bread",
    "a mountain lake",
    "city lights",
    "a lost umbrella",
    "the last day of summer",
    "a spider's web covered in dew",
    "a lighthouse",
    "a computer that won't start",
    "a garden after rain",
    "geese flying south",
    "a kettle coming to the boil",
    "an empty playground",
    "a long train journey",
    "cherry blossom",
]

HAIKU_FORMS = [
    "Write a haiku about {t}.",
    "Compose a haiku on {t}.",
    "Please write a short haiku about {t}.",
    "A haiku about {t}, please.",
]

TRANSLATIONS = [
    ("French", "Je voudrais un café, s'il vous plaît."),
    ("French", "Où se trouve la gare ?"),
    ("French", "Il fait beau aujourd'hui."),
    ("French", "Nous partons en vacances demain matin."),
    ("French", "Mon frère travaille dans un hôpital."),
    ("French", "Le magasin ferme à dix-neuf heures."),
    ("French", "J'ai oublié mes clés à la maison."),
    ("French", "Pouvez-vous parler plus lentement ?"),
    ("Spanish", "¿Cuánto cuesta este libro?"),
    ("Spanish", "Me gusta mucho cocinar con mi abuela."),
    ("Spanish", "El tren llega a las ocho y media."),
    ("Spanish", "Mañana va a llover en la costa."),
    ("Spanish", "Tengo dos gatos y un perro."),
    ("Spanish", "¿Dónde está el baño?"),
    ("Spanish", "Estamos aprendiendo a nadar."),
    ("German", "Ich habe heute keine Zeit."),
    ("German", "Das Wetter ist heute sehr schön."),
    ("German", "Wo ist der nächste Supermarkt?"),
    ("German", "Meine Schwester wohnt in Berlin."),
    ("German", "Kannst du mir bitte helfen?"),
    ("German", "Der Zug hat zehn Minuten Verspätung."),
    ("Italian", "Vorrei prenotare un tavolo per due."),
    ("Italian", "La biblioteca è chiusa la domenica."),
    ("Italian", "Mi piace ascoltare la musica la sera."),
    ("Italian", "Quanto dista il museo da qui?"),
    ("Portuguese", "Obrigado pela ajuda."),
    ("Portuguese", "A praia fica perto do hotel."),
    ("Portuguese", "Eu gosto de ler antes de dormir."),
    ("Dutch", "Ik fiets elke dag naar mijn werk."),
    ("Dutch", "Het regent al de hele dag."),
]

TRANSLATION_FORMS = [
    "Translate into English: {s}",
    "Translate this {lang} sentence into English: {s}",
    'What does "{q}" mean in English?',
    "Give the English for this {lang} phrase: {s}",
]

STEP_TASKS = [
    "make a cup of tea",
    "fix a flat bicycle tyre",
    "plant a young tree",
    "boil an egg",
    "restart a home Wi-Fi router",
    "write a formal email",
    "wash a wool jumper by hand",
    "fold a paper aeroplane",
    "prepare for a job interview",
    "set up a new smartphone",
    "clean a cast-iron pan",
    "start a compost heap",
    "back up a laptop",
    "pack for a weekend trip",
    "hang a picture on a wall",
    "make pancakes",
    "draw up a monthly budget",
    "check the tyre pressure on a car",
    "repot a houseplant",
    "learn to juggle three balls",
    "bleed a radiator",
    "make a simple vegetable soup",
    "jump-start a car",
    "take a screenshot on a laptop",
    "write a short speech for a friend's wedding",
    "unblock a kitchen sink",
    "get a room ready for painting",
    "give a cat a tablet",
    "cook rice in a pan",
    "open a bank account",
]

STEP_FORMS = [
    "List the steps to {t}.",
    "How do I {t}? List the steps.",
    "Give step-by-step instructions to {t}.",
    "What are the main steps to {t}?",
    "Explain in numbered steps how to {t}.",
]

CODE_QUESTIONS = [
    "How do I reverse a string in Python?",
    "What does the len function do in Python?",
    "Write a Python function that returns the sum of a list of numbers.",
    "In JavaScript, what is the difference between let and const?",
    "How do I read a text file line by line in Python?",
    "What does the GROUP BY clause do in SQL?",
    "Write an SQL query that selects all customers who live in Leeds.",
    "What is a dictionary in Python?",
    "How can I check whether a number is even in JavaScript?",
    "What does git commit do?",
    "Explain what a for loop is.",
    "How do I sort a list of numbers from largest to smallest in Python?",
    "What is the difference between a list and a tuple in Python?",
    "What is recursion? Give a tiny example.",
    "In Rust, what does the mut keyword mean?",
    'How do I print "Hello, world!" in C?',
    "What does the HTTP status code 404 mean?",
    "Write a shell command that counts the lines in a file called notes.txt.",
    "What is an API?",
    "How do I turn a string into an integer in Python?",
    "What is the time complexity of binary search?",
    "What does console.log do in JavaScript?",
    "Why does 0.1 + 0.2 not equal 0.3 in most programming languages?",
    "What is a variable in programming?",
    "How do I create a new folder from the Linux command line?",
    "Fix this Python code: for i in range(10) print(i)",
    "What does this Python code print? print(len('hello'))",
    "What does JSON stand for, and what is it used for?",
    "In Python, what is the difference between == and is?",
    "Write a regular expression that matches a five-digit number.",
    "How do I remove duplicates from a list in Python?",
    "What is a README file for?",
    "What is the difference between RAM and disk storage?",
    "Explain what git pull does in one sentence.",
    "Write a Python one-liner that squares every number in a list called nums.",
]

MISC_PROMPTS = [
    # definitions
    "Define photosynthesis.",
    "Define gravity.",
    'What does the word "democracy" mean?',
    "Give a one-sentence definition of a metaphor.",
    "What is an ecosystem?",
    "Define friction in simple words.",
    'What does "empathy" mean?',
    "What is a glacier?",
    "Give a one-sentence definition of erosion.",
    'What does the word "frugal" mean?',
    # words
    'What is the opposite of "generous"?',
    'Give three synonyms for "happy".',
    'Suggest another word for "big".',
    'Use the word "reluctant" in a sentence.',
    'What is the plural of "mouse"?',
    'Which word is spelled correctly: "recieve" or "receive"?',
    # rewriting
    "Rewrite this sentence to sound more polite: Give me the report now.",
    "Correct the grammar in this sentence: She don't like apples.",
    "Rewrite in the past tense: I walk to school every day.",
    "Make this sentence shorter: Due to the fact that it was raining, we made the decision to stay at home.",
    "Rewrite this sentence so that a child can understand it: The precipitation will persist throughout the afternoon.",
    "Turn this into a question: The shop opens at nine.",
    "Rewrite this sentence in a more formal tone: Hey, can you send me that file?",
    # creative
    "Write a one-line slogan for a bicycle repair shop.",
    "Suggest a name for a small bakery by the sea.",
    "Write the opening line of a mystery story.",
    "Tell me a joke about computers.",
    "Write a two-line poem about rain.",
    "Describe the smell of fresh bread in one sentence.",
    "Invent a name for a friendly robot.",
    "Write a short birthday message for my grandmother.",
    "Describe a sunset to someone who has never seen one.",
    "Write a limerick about a cat who loves cheese.",
    # lists and tips
    "Name three planets in our solar system.",
    "Give three tips for saving water at home.",
    "List four fruits that are yellow.",
    "Name five animals that live in the sea.",
    "Give two reasons to learn a musical instrument.",
    "What are three things to pack for a day at the beach?",
    "Give three ideas for a rainy afternoon with children.",
    "List three ways to reduce food waste.",
    # short
    "Tell me a joke.",
    "Tell me a fun fact.",
    "Name a colour.",
    "Say something kind.",
    "Give me a random animal.",
    # arithmetic
    "What is 12 times 8?",
    "A train travels 60 kilometres in one hour. How far does it go in three hours?",
    "What is half of 250?",
    "How many metres are there in 5 kilometres?",
    "What is 15 percent of 200?",
    "Is 91 a prime number?",
    "What is the square root of 81?",
    "How many seconds are there in an hour?",
    # short writing tasks
    "Write a two-sentence email asking a colleague to move our meeting to Friday.",
    "Write a short note to a neighbour asking them to water my plants while I'm away.",
    "Write a polite message declining an invitation to a party.",
    "Write one sentence thanking a teacher at the end of the school year.",
    "Write a short product description for a reusable water bottle.",
    "Write a friendly reminder that the library book is due back on Monday.",
]

SYSTEM_PROMPTS = {
    "question": [
        "You are a helpful assistant. Answer clearly and briefly.",
        "You are a friendly assistant. Keep your answers short.",
        "You are a knowledgeable assistant who answers in plain English.",
    ],
    "eli5": [
        "You are a patient teacher who explains things to young children using simple words.",
        "You explain ideas to five-year-olds. Use short sentences and everyday examples.",
    ],
    "summary": [
        "You are an assistant that writes short, accurate summaries.",
        "You are an editor. Be brief and keep only what matters.",
    ],
    "haiku": [
        "You are a poet who writes short poems in English.",
        "You write haiku: three lines of five, seven and five syllables.",
    ],
    "translate": [
        "You are a translator. Reply with the English translation only.",
        "You translate short sentences into natural English.",
    ],
    "steps": [
        "You are a practical assistant who gives clear, numbered instructions.",
        "You are a helpful assistant. Give short, practical steps.",
    ],
    "code": [
        "You are a programming assistant. Answer concisely and include code when it helps.",
        "You are an experienced software engineer helping a beginner.",
    ],
    "misc": [
        "You are a helpful assistant. Answer clearly and briefly.",
        "You are a friendly assistant who writes in simple English.",
    ],
}
CHAT_FRACTION = 1 / 3


def generation_rows() -> list[dict]:
    rng = random.Random(SEED + 3)
    prompts: list[tuple[str, str]] = []  # (category, prompt)

    prompts += [("question", q) for q in QUESTIONS]
    prompts += [("eli5", rng.choice(ELI5_FORMS).format(t=t)) for t in ELI5_TOPICS]

    for p in PARAGRAPHS:
        prompts.append(("summary", rng.choice(SUMMARY_FORMS).format(p=p)))
    for p in rng.sample(PARAGRAPHS, SECOND_SUMMARIES):
        used = {text for _, text in prompts}
        forms = [f for f in SUMMARY_FORMS if f.format(p=p) not in used]
        prompts.append(("summary", rng.choice(forms).format(p=p)))

    prompts += [("haiku", rng.choice(HAIKU_FORMS).format(t=t)) for t in HAIKU_TOPICS]
    prompts += [
        ("translate", rng.choice(TRANSLATION_FORMS).format(lang=lang, s=s, q=s.rstrip(".")))
        for lang, s in TRANSLATIONS
    ]
    prompts += [("steps", rng.choice(STEP_FORMS).format(t=t)) for t in STEP_TASKS]
    prompts += [("code", q) for q in CODE_QUESTIONS]
    prompts += [("misc", q) for q in MISC_PROMPTS]

    # About a third of each category is given in chat form, with a fitting system prompt.
    rows: list[dict] = []
    by_category: dict[str, list[int]] = {}
    for i, (category, _) in enumerate(prompts):
        by_category.setdefault(category, []).append(i)
    chat: set[int] = set()
    for indices in by_category.values():
        chat.update(rng.sample(indices, round(len(indices) * CHAT_FRACTION)))
    for i, (category, prompt) in enumerate(prompts):
        row: dict = {"prompt": prompt}
        if i in chat:
            row["messages"] = [
                {"role": "system", "content": rng.choice(SYSTEM_PROMPTS[category])},
                {"role": "user", "content": prompt},
            ]
        rows.append(row)
    rng.shuffle(rows)
    return rows


# --------------------------------------------------------------------------------------------
# 4. Summarization
# --------------------------------------------------------------------------------------------
#
# Hand-written short news-style documents (fictional towns, people and organisations) with a
# hand-written one-sentence reference summary each.

SUMMARIES: list[tuple[str, str]] = [
    ("The town council of Eastbrook voted on Tuesday to close the old swimming pool at the end of "
     "the summer. Repairs to the roof and the heating would have cost more than a new building, "
     "the council said. A new pool with solar panels on its roof will be built next to the "
     "library and should open in two years. Until then, residents can use the pool in the "
     "neighbouring town at the same price.",
     "Eastbrook will close its old swimming pool and build a new solar-powered one next to the "
     "library within two years."),
    ("Heavy snow fell across the northern hills overnight, closing three mountain roads and "
     "leaving several villages cut off. Snowploughs worked through the morning, and the main road "
     "reopened at noon. Schools in the area stayed closed for the day. Forecasters expect milder "
     "weather from Thursday, when the snow should begin to melt.",
     "Overnight snow closed mountain roads and schools in the northern hills, with milder "
     "weather expected from Thursday."),
    ("A small bakery in Millford has won a national prize for its rye bread. The owners, two "
     "sisters who opened the shop five years ago, bake every loaf by hand in a wood-fired oven. "
     "Since the award was announced, queues have formed outside the shop every morning, and the "
     "sisters say they now bake twice as much bread as before.",
     "A Millford bakery run by two sisters won a national prize for its hand-baked rye bread and "
     "now bakes twice as much."),
    ("The city's public libraries will stay open until nine in the evening from next month. The "
     "change follows a survey in which most readers said they could not visit during working "
     "hours. The longer opening times will be paid for by closing the libraries on Monday "
     "mornings, when they are usually almost empty.",
     "City libraries will open until 9 pm from next month, paid for by closing on quiet Monday "
     "mornings."),
    ("Researchers at the Westfield Institute have built a robot that sorts plastic waste by "
     "colour and type. The machine uses a camera and a small neural network to recognise each "
     "item on a conveyor belt, then pushes it into the right bin with a jet of air. In tests it "
     "sorted about two thousand items an hour with few mistakes.",
     "Westfield researchers built a camera-guided robot that sorts about two thousand plastic "
     "items an hour by colour and type."),
    ("The regional football final was postponed on Saturday after heavy rain left the pitch "
     "under water. Players and fans had already arrived at the stadium when the referee decided "
     "the ground was unsafe. The match will now be played next Sunday, and tickets bought for "
     "Saturday will still be valid.",
     "Flooding postponed the regional football final to next Sunday, and Saturday's tickets "
     "remain valid."),
    ("A new bus line will connect the railway station with the hospital and the university from "
     "the first of March. Buses will run every ten minutes during the day and every half hour in "
     "the evening. The transport company says the line should cut car traffic on the hospital "
     "road, which is often jammed in the morning.",
     "From March a new bus line will link the station, hospital and university every ten "
     "minutes to reduce car traffic."),
    ("Farmers in the river valley say this year's apple harvest is the best in a decade. A mild "
     "spring without late frost meant that almost every blossom turned into fruit. Prices have "
     "fallen as a result, and some farmers are turning the extra apples into juice and cider "
     "rather than selling them at a loss.",
     "A frost-free spring gave valley farmers their best apple harvest in ten years, lowering "
     "prices and sending extra fruit to juice and cider."),
    ("The museum of natural history has reopened after a two-year renovation. Visitors can now "
     "see the skeleton of a whale hanging in the main hall, which had been kept in storage for "
     "decades. The building also has a new lift, a café on the roof and rooms that children can "
     "explore with their hands.",
     "The natural history museum reopened after two years of renovation with a whale skeleton "
     "on display, a roof café and hands-on rooms for children."),
    ("A fire broke out in a warehouse on the edge of the industrial park late on Friday night. "
     "Firefighters brought it under control within two hours, and nobody was hurt. The warehouse "
     "held paper and cardboard for recycling. Police are investigating how the fire started and "
     "have asked witnesses to come forward.",
     "A late-night fire in an industrial-park recycling warehouse was put out in two hours with "
     "no injuries, and police are investigating its cause."),
    ("Students at Greenhill School have planted more than five hundred trees on land next to the "
     "playground. The project was their own idea: they raised the money with a sponsored walk "
     "and chose native species such as oak, birch and hazel. The headteacher said the small wood "
     "will be used for science lessons.",
     "Greenhill School students raised money and planted over five hundred native trees that "
     "will be used for science lessons."),
    ("The price of train tickets between the two largest cities will rise by four per cent in "
     "January. The rail company blamed higher energy costs and the purchase of new trains. "
     "Passenger groups criticised the increase, saying trains on the route are often late and "
     "overcrowded.",
     "Train fares between the two largest cities will rise four per cent in January, which "
     "passenger groups criticised."),
    ("A lost dog walked more than forty kilometres to return to its old home, three weeks after "
     "its family moved to a new town. Neighbours recognised the dog sitting at the garden gate "
     "and called the family, who drove back to collect it. A vet said the animal was thin but "
     "healthy.",
     "A dog walked over forty kilometres back to its family's old home three weeks after they "
     "moved, and was found thin but healthy."),
    ("The national weather service has warned of a heatwave over the coming week, with "
     "temperatures expected to reach thirty-eight degrees in the south. People are advised to "
     "drink plenty of water, avoid the sun in the afternoon and check on elderly neighbours. "
     "Some outdoor events have already been cancelled.",
     "A heatwave of up to thirty-eight degrees is expected in the south, with advice to drink "
     "water and check on elderly neighbours."),
    ("A software company in Lakeside has moved its staff to a four-day working week without "
     "cutting their pay. After six months, the company says that work is finished on time and "
     "that fewer employees have taken sick leave. Other firms in the region are now watching the "
     "experiment closely.",
     "A Lakeside software company moved to a four-day week at full pay and reports on-time work "
     "and less sick leave after six months."),
    ("The old stone bridge over the Arden river will be closed to cars from next week while "
     "engineers repair cracks in its arches. Pedestrians and cyclists can still cross. Drivers "
     "will have to use the new bridge two kilometres downstream, which may add ten minutes to "
     "their journey at busy times.",
     "The old Arden bridge will close to cars for crack repairs, but walkers and cyclists can "
     "still cross."),
    ("A volunteer group has cleaned up the beach at Seal Bay, collecting more than three hundred "
     "kilograms of rubbish in a single day. Most of it was plastic bottles, fishing nets and "
     "food packaging. The group plans to return every month and has asked the council for more "
     "bins near the car park.",
     "Volunteers collected over three hundred kilograms of mostly plastic rubbish from Seal Bay "
     "beach and plan monthly clean-ups."),
    ("The city orchestra will give a free concert in the central park on Sunday afternoon. The "
     "programme includes music by local composers and a piece written by pupils of the music "
     "school. Visitors are invited to bring blankets and picnics; if it rains, the concert will "
     "move to the town hall.",
     "The city orchestra plays a free Sunday concert in the central park, moving to the town "
     "hall if it rains."),
    ("Doctors at the regional hospital have started using a new scanner that produces images in "
     "half the time of the old machine. Patients spend less time lying still, which helps "
     "children and older people in particular. The hospital expects the waiting list for scans "
     "to fall from six weeks to three.",
     "A faster scanner at the regional hospital halves scan times and should cut the waiting "
     "list from six weeks to three."),
    ("A storm brought down power lines across the coast on Wednesday evening, leaving about "
     "twelve thousand homes without electricity. Repair crews worked through the night, and by "
     "Thursday morning power had been restored to all but a few hundred homes in remote "
     "villages.",
     "A storm cut power to about twelve thousand coastal homes, and almost all were reconnected "
     "by the next morning."),
    ("The council has approved plans for a weekly farmers' market in the old town square. Stalls "
     "will sell vegetables, cheese, honey and bread from farms within fifty kilometres. The "
     "market will run every Saturday morning from April to October, starting next spring.",
     "A weekly Saturday farmers' market selling local produce will open in the old town square "
     "next spring."),
    ("A university team has found a way to make batteries from sodium instead of lithium. Sodium "
     "is cheap and found in sea salt, which could lower the price of storing solar and wind "
     "power. The batteries are heavier than lithium ones, so they are better suited to homes "
     "than to cars.",
     "Researchers made cheaper sodium batteries that suit home storage of solar and wind power "
     "better than cars."),
    ("The ferry between the island and the mainland will run twice as often this summer. The "
     "operator has bought a second boat after complaints that tourists and residents were "
     "turned away from full sailings last year. Prices will stay the same.",
     "A second ferry will double summer sailings between the island and the mainland at "
     "unchanged prices."),
    ("A local choir of eighty singers, the youngest aged nine and the oldest ninety-one, has "
     "released its first album. The songs were recorded in the village church over three "
     "weekends. Money from sales will pay for a new roof for the church hall where the choir "
     "rehearses.",
     "An eighty-member village choir of all ages released its first album to fund a new roof "
     "for its rehearsal hall."),
    ("The city will test electric rubbish lorries for six months on its busiest routes. The "
     "lorries are quieter than diesel ones, so collections can start earlier in the morning "
     "without waking residents. If the test goes well, the whole fleet will be replaced by "
     "2030.",
     "The city is testing quieter electric rubbish lorries and may replace its whole fleet by "
     "2030."),
    ("A rare butterfly not seen in the county for forty years has been spotted in a meadow near "
     "Oakford. Naturalists believe it returned because farmers stopped mowing the meadow in "
     "early summer, letting wild flowers grow. The exact place is being kept secret to protect "
     "the insects.",
     "A rare butterfly has returned to a meadow near Oakford after forty years, helped by later "
     "mowing."),
    ("The regional airport will close its second runway for three months of resurfacing work. "
     "Flights will continue from the main runway, but the airport warns of delays at peak "
     "times. Night flights will be suspended during the works to limit noise for nearby "
     "residents.",
     "The regional airport closes its second runway for three months of works, warning of "
     "delays and suspending night flights."),
    ("A cooking class for retired men has become so popular at the community centre that a "
     "second group has been started. Most participants had never cooked a full meal before. "
     "The teacher says the class is as much about meeting people as about learning recipes.",
     "A cooking class for retired men at the community centre is so popular that a second group "
     "has started."),
    ("The town's cinema, closed for a year after the owner retired, will reopen as a "
     "cooperative run by its audience. More than six hundred residents bought shares to buy the "
     "building. Volunteers will sell tickets and run the café, and films will be shown five "
     "nights a week.",
     "More than six hundred residents bought shares to reopen the town's cinema as a "
     "volunteer-run cooperative."),
    ("Engineers have finished a new cycle path along the old railway line between Harlow and "
     "Pinebridge. The twelve-kilometre path is flat, lit at night and separated from the road. "
     "Cyclists can now travel between the two towns in about forty minutes.",
     "A lit twelve-kilometre cycle path on the old railway now links Harlow and Pinebridge in "
     "about forty minutes."),
]

# --------------------------------------------------------------------------------------------
# 5. Extractive question answering
# --------------------------------------------------------------------------------------------
#
# Hand-written paragraphs with a question each; every gold answer is a span of its context
# (checked), and some questions accept more than one span, as SQuAD does.

QA_ROWS: list[tuple[str, str, list[str]]] = [
    ("The Eastbrook swimming pool opened in 1968 and was paid for by a local brewery. It will "
     "close at the end of this summer because its roof and heating need costly repairs.",
     "When did the Eastbrook swimming pool open?", ["1968", "in 1968"]),
    ("The Millford bakery was opened five years ago by two sisters, Anna and Clara Berg. They "
     "bake every loaf by hand in a wood-fired oven.",
     "What kind of oven do the sisters use?", ["a wood-fired oven", "wood-fired oven", "wood-fired"]),
    ("Mount Keller is the highest peak in the northern hills, at 2,140 metres. The first "
     "recorded climb was made by a shepherd in 1821.",
     "How high is Mount Keller?", ["2,140 metres"]),
    ("The Arden river rises in the western moors and flows east for 180 kilometres before it "
     "reaches the sea at Portwell.",
     "Where does the Arden river reach the sea?", ["at Portwell", "Portwell"]),
    ("The Westfield robot sorts plastic waste with a camera and a small neural network. It "
     "pushes each item into the right bin with a jet of air.",
     "How does the robot move items into the bins?", ["with a jet of air", "a jet of air"]),
    ("The new bus line connects the railway station with the hospital and the university. "
     "Buses run every ten minutes during the day.",
     "How often do the buses run during the day?", ["every ten minutes", "ten minutes"]),
    ("Greenhill School students raised money for their wood with a sponsored walk. They planted "
     "oak, birch and hazel, all native species.",
     "How did the students raise the money?", ["with a sponsored walk", "a sponsored walk"]),
    ("The town cinema was bought by a cooperative of more than six hundred residents. Films are "
     "shown five nights a week.",
     "How many nights a week are films shown?", ["five nights a week", "five"]),
    ("Sodium batteries are heavier than lithium batteries, so the researchers think they suit "
     "homes better than cars. Sodium can be obtained from sea salt.",
     "Where can sodium be obtained from?", ["sea salt", "from sea salt"]),
    ("The regional hospital's new scanner produces images in half the time of the old machine. "
     "The waiting list for scans should fall from six weeks to three.",
     "How long is the waiting list for scans now?", ["six weeks"]),
    ("Lena Park became the first woman to captain the Harlow rowing club in 1994. Under her "
     "lead, the club won the river cup four years in a row.",
     "Who was the first woman to captain the Harlow rowing club?", ["Lena Park"]),
    ("The ferry to Gull Island takes forty-five minutes. This summer a second boat, the Tern, "
     "will double the number of sailings.",
     "What is the name of the second boat?", ["the Tern", "Tern"]),
    ("Oakford's meadow is mown only after the middle of July, which lets wild flowers set seed. "
     "A rare butterfly has returned there after forty years.",
     "After how many years has the butterfly returned?", ["forty years", "forty"]),
    ("The old stone bridge has five arches and was finished in 1790. Engineers are repairing "
     "cracks in two of the arches.",
     "When was the old stone bridge finished?", ["1790", "in 1790"]),
    ("The farmers' market will run every Saturday morning from April to October. Stalls sell "
     "food from farms within fifty kilometres of the town.",
     "On which day will the market run?", ["Saturday", "every Saturday morning", "Saturday morning"]),
    ("Water boils at 100 degrees Celsius at sea level, but at lower temperatures on high "
     "mountains, where the air pressure is lower.",
     "Why does water boil at a lower temperature on high mountains?",
     ["the air pressure is lower", "air pressure is lower"]),
    ("The violin maker Tomas Reid works in a small shop near the harbour. Each instrument takes "
     "him about three months to finish.",
     "How long does each instrument take Tomas Reid to finish?", ["about three months", "three months"]),
    ("The Seal Bay clean-up collected more than three hundred kilograms of rubbish. Most of it "
     "was plastic bottles, fishing nets and food packaging.",
     "How much rubbish did the clean-up collect?",
     ["more than three hundred kilograms", "three hundred kilograms"]),
    ("The orchestra's Sunday concert in the central park is free. If it rains, the concert will "
     "move to the town hall.",
     "Where will the concert move if it rains?", ["to the town hall", "the town hall", "town hall"]),
    ("Honey bees communicate the direction of flowers to other bees with a waggle dance. The "
     "angle of the dance shows the direction relative to the sun.",
     "How do honey bees tell other bees where flowers are?", ["with a waggle dance", "a waggle dance", "waggle dance"]),
    ("The cycle path between Harlow and Pinebridge follows the old railway line. It is twelve "
     "kilometres long and lit at night.",
     "How long is the cycle path?", ["twelve kilometres"]),
    ("The choir's album was recorded in the village church over three weekends. Sales will pay "
     "for a new roof for the church hall.",
     "What will the money from sales pay for?",
     ["a new roof for the church hall", "a new roof", "new roof for the church hall"]),
    ("Marta Silva, the head librarian, proposed the longer opening hours after a survey of "
     "readers. The libraries now stay open until nine in the evening.",
     "Who proposed the longer opening hours?", ["Marta Silva"]),
    ("The electric rubbish lorries are quieter than diesel ones, so collections can begin "
     "earlier without waking residents; they are quieter even when fully loaded.",
     "Why can collections begin earlier?",
     ["The electric rubbish lorries are quieter than diesel ones", "quieter than diesel ones",
      "they are quieter"]),
    ("Copper is a good conductor of electricity and is used in most household wiring. Aluminium "
     "is lighter and is often used in overhead power lines.",
     "Which metal is often used in overhead power lines?", ["Aluminium"]),
    ("The regional airport's second runway will be closed for three months of resurfacing. "
     "Night flights are suspended during the works to limit noise.",
     "Why are night flights suspended?", ["to limit noise", "limit noise"]),
    ("The community centre's cooking class for retired men meets on Wednesday afternoons. A "
     "second group now meets on Friday mornings.",
     "When does the second group meet?", ["on Friday mornings", "Friday mornings"]),
    ("The storm on Wednesday left about twelve thousand homes without electricity. By Thursday "
     "morning, power was back in all but a few hundred homes.",
     "How many homes lost electricity in the storm?", ["about twelve thousand", "twelve thousand"]),
    ("The Lakeside software company moved to a four-day week six months ago. Its founder, Omar "
     "Haddad, says fewer employees have taken sick leave since then.",
     "Who founded the Lakeside software company?", ["Omar Haddad"]),
    ("Penguins cannot fly, but they are strong swimmers. Their wings have evolved into stiff "
     "flippers that push them through the water.",
     "What have penguins' wings evolved into?", ["stiff flippers", "flippers"]),
]


def summarization_rows() -> list[dict]:
    return [{"document": d, "summary": s} for d, s in SUMMARIES]


def qa_rows() -> list[dict]:
    return [{"context": c, "question": q, "answers": a} for c, q, a in QA_ROWS]
# 4. Multiple-choice questions (the default text-generation set)
# --------------------------------------------------------------------------------------------

MC_FILE = "text-generation-mc.jsonl"

# (question, right answer, three wrong answers), written for this project.
MC_WRITTEN = [
    # science
    ("Which planet is closest to the Sun?", "Mercury", ["Venus", "Mars", "Jupiter"]),
    ("Which planet is known as the Red Planet?", "Mars", ["Venus", "Saturn", "Neptune"]),
    ("What is the largest planet in our solar system?", "Jupiter", ["Saturn", "Earth", "Uranus"]),
    ("What gas do plants take in from the air to make their food?", "carbon dioxide", ["oxygen", "nitrogen", "helium"]),
    ("What gas do humans need to breathe in to stay alive?", "oxygen", ["carbon dioxide", "helium", "neon"]),
    ("At what temperature does pure water freeze at sea level?", "0 degrees Celsius", ["10 degrees Celsius", "100 degrees Celsius", "-40 degrees Celsius"]),
    ("At what temperature does pure water boil at sea level?", "100 degrees Celsius", ["50 degrees Celsius", "0 degrees Celsius", "200 degrees Celsius"]),
    ("What force pulls objects toward the ground?", "gravity", ["magnetism", "friction", "sound"]),
    ("Which organ pumps blood around the human body?", "the heart", ["the lungs", "the liver", "the stomach"]),
    ("Which organ do humans mainly use to breathe?", "the lungs", ["the heart", "the kidneys", "the skin"]),
    ("What do bees make from the nectar of flowers?", "honey", ["milk", "silk", "wax paper"]),
    ("What is the hardest natural substance?", "diamond", ["gold", "iron", "glass"]),
    ("Which part of a plant usually grows under the ground?", "the roots", ["the flowers", "the leaves", "the fruit"]),
    ("What is the main source of energy for life on Earth?", "the Sun", ["the Moon", "volcanoes", "the wind"]),
    ("What do we call animals that eat only plants?", "herbivores", ["carnivores", "predators", "scavengers"]),
    ("What do we call animals that eat only meat?", "carnivores", ["herbivores", "pollinators", "decomposers"]),
    ("How many legs does an insect have?", "six", ["four", "eight", "ten"]),
    ("How many legs does a spider have?", "eight", ["six", "four", "ten"]),
    ("What is the closest star to Earth?", "the Sun", ["Sirius", "the North Star", "the Moon"]),
    ("What does a thermometer measure?", "temperature", ["weight", "distance", "time"]),
    ("What does a compass needle point toward?", "magnetic north", ["the Sun", "the ocean", "the Moon"]),
    ("Which state of matter has a fixed shape?", "solid", ["liquid", "gas", "steam"]),
    ("What happens to ice when it is left in a warm room?", "it melts", ["it grows", "it freezes harder", "it turns to sand"]),
    ("Which natural satellite orbits the Earth?", "the Moon", ["the Sun", "Mars", "a comet"]),
    ("What is the boiling of water into vapour called?", "evaporation", ["condensation", "freezing", "melting"]),
    ("Water vapour turning into droplets on a cold glass is called what?", "condensation", ["evaporation", "erosion", "photosynthesis"]),
    ("The process plants use to turn sunlight into food is called what?", "photosynthesis", ["digestion", "respiration", "fermentation"]),
    ("Which blood cells carry oxygen around the body?", "red blood cells", ["white blood cells", "nerve cells", "skin cells"]),
    ("What kind of animal is a whale?", "a mammal", ["a fish", "a reptile", "an insect"]),
    ("What kind of animal is a frog?", "an amphibian", ["a mammal", "a bird", "an insect"]),
    ("What kind of animal is a snake?", "a reptile", ["an amphibian", "a mammal", "a fish"]),
    ("What kind of animal is a penguin?", "a bird", ["a fish", "a mammal", "a reptile"]),
    ("Which bone protects the brain?", "the skull", ["the rib cage", "the spine", "the pelvis"]),
    ("Which sense do we use our ears for?", "hearing", ["smell", "taste", "sight"]),
    ("Which sense do we use our nose for?", "smell", ["hearing", "touch", "sight"]),
    ("What type of energy does a battery store?", "chemical energy", ["sound energy", "nuclear energy", "wind energy"]),
    ("Which metal is liquid at room temperature?", "mercury", ["iron", "copper", "aluminium"]),
    ("What makes up most of the air we breathe?", "nitrogen", ["oxygen", "carbon dioxide", "hydrogen"]),
    ("What is the center of an atom called?", "the nucleus", ["the shell", "the orbit", "the membrane"]),
    ("Which particle in an atom has a negative charge?", "the electron", ["the proton", "the neutron", "the nucleus"]),
    ("Light from the Sun takes about how long to reach Earth?", "about eight minutes", ["about one second", "about one day", "about one year"]),
    ("Why do we have day and night?", "the Earth spins on its axis", ["the Sun moves around the Earth", "the Moon blocks the Sun", "clouds cover the sky"]),
    ("Why do we have seasons on Earth?", "the Earth's axis is tilted", ["the Sun changes colour", "the Moon pulls the oceans", "the Earth stops spinning"]),
    ("What is a baby frog called?", "a tadpole", ["a cub", "a foal", "a chick"]),
    ("What is a young horse called?", "a foal", ["a calf", "a kitten", "a piglet"]),
    ("What is a young cow called?", "a calf", ["a lamb", "a puppy", "a foal"]),
    ("Which instrument is used to look at stars and planets?", "a telescope", ["a microscope", "a stethoscope", "a barometer"]),
    ("Which instrument is used to see very small things such as cells?", "a microscope", ["a telescope", "a periscope", "a thermometer"]),
    ("What do caterpillars turn into?", "butterflies", ["spiders", "beetles", "worms"]),
    ("Which of these materials is attracted to a magnet?", "iron", ["wood", "glass", "plastic"]),
    ("Which of these is a renewable source of energy?", "wind", ["coal", "oil", "natural gas"]),
    ("Sound cannot travel through which of these?", "a vacuum", ["water", "air", "steel"]),
    ("What shape is the Earth closest to?", "a sphere", ["a cube", "a flat disc", "a pyramid"]),
    ("Which vitamin does the skin make when it is exposed to sunlight?", "vitamin D", ["vitamin C", "vitamin A", "vitamin K"]),
    ("Where in the body is food mostly digested and absorbed?", "the small intestine", ["the lungs", "the heart", "the brain"]),
    # geography and general knowledge
    ("Which is the largest ocean on Earth?", "the Pacific Ocean", ["the Atlantic Ocean", "the Indian Ocean", "the Arctic Ocean"]),
    ("Which is the largest desert of hot sand in Africa?", "the Sahara", ["the Gobi", "the Atacama", "the Mojave"]),
    ("Which continent is Egypt in?", "Africa", ["Asia", "Europe", "South America"]),
    ("Which continent is Brazil in?", "South America", ["Africa", "Europe", "Asia"]),
    ("Which continent is the coldest?", "Antarctica", ["Africa", "Australia", "Europe"]),
    ("What is the tallest mountain above sea level?", "Mount Everest", ["Mont Blanc", "Mount Kilimanjaro", "Mount Fuji"]),
    ("How many continents are there on Earth?", "seven", ["five", "nine", "twelve"]),
    ("How many days are there in a week?", "seven", ["five", "six", "ten"]),
    ("How many days are there in a leap year?", "366", ["365", "364", "360"]),
    ("How many months have 31 days?", "seven", ["five", "six", "twelve"]),
    ("How many minutes are there in an hour?", "sixty", ["thirty", "one hundred", "twenty-four"]),
    ("How many hours are there in a day?", "twenty-four", ["twelve", "sixty", "one hundred"]),
    ("How many sides does a triangle have?", "three", ["four", "five", "six"]),
    ("How many sides does a hexagon have?", "six", ["five", "seven", "eight"]),
    ("How many sides does a square have?", "four", ["three", "five", "six"]),
    ("Which month comes right after June?", "July", ["May", "August", "September"]),
    ("Which month comes right before March?", "February", ["January", "April", "December"]),
    ("Which day comes right after Friday?", "Saturday", ["Thursday", "Sunday", "Monday"]),
    ("Which colour do you get by mixing blue and yellow paint?", "green", ["purple", "orange", "brown"]),
    ("Which colour do you get by mixing red and white paint?", "pink", ["green", "blue", "black"]),
    ("Which colour do you get by mixing red and yellow paint?", "orange", ["green", "purple", "grey"]),
    ("In which direction does the Sun rise?", "east", ["west", "north", "south"]),
    ("In which direction does the Sun set?", "west", ["east", "north", "south"]),
    ("What is frozen water called?", "ice", ["steam", "sand", "salt"]),
    ("Which language has the most native speakers in Brazil?", "Portuguese", ["Spanish", "French", "English"]),
    ("What is the currency of Japan?", "the yen", ["the euro", "the dollar", "the peso"]),
    ("Which river flows through Paris?", "the Seine", ["the Thames", "the Danube", "the Nile"]),
    ("Which river flows through London?", "the Thames", ["the Seine", "the Rhine", "the Volga"]),
    ("On which continent are kangaroos found in the wild?", "Australia", ["Africa", "Europe", "South America"]),
    ("Which country has the largest land area?", "Russia", ["Canada", "China", "Brazil"]),
    # common sense
    ("What do you usually use to cut paper?", "scissors", ["a spoon", "a pillow", "a sponge"]),
    ("Where would you most likely keep milk cold at home?", "in the fridge", ["in the oven", "in the bookshelf", "in the garden"]),
    ("What do people usually wear on their feet?", "shoes", ["hats", "gloves", "scarves"]),
    ("What should you do before crossing a busy road?", "look both ways", ["close your eyes", "start running", "turn around"]),
    ("What do you use to unlock a door?", "a key", ["a fork", "a comb", "a cup"]),
    ("If it is raining outside, what should you take to stay dry?", "an umbrella", ["sunglasses", "a fan", "a towel rack"]),
    ("Which of these is used for writing on paper?", "a pencil", ["a hammer", "a plate", "a shoe"]),
    ("Where do you go to borrow books for free?", "a library", ["a bakery", "a garage", "a bank"]),
    ("Where would you go to see a doctor when you are ill?", "a clinic", ["a cinema", "a car park", "a shoe shop"]),
    ("What do you need to see in a dark room?", "a light", ["a blanket", "a spoon", "a chair"]),
    ("Which meal is usually eaten in the morning?", "breakfast", ["dinner", "supper", "midnight snack"]),
    ("A glass falls on a stone floor. What most likely happens?", "it breaks", ["it bounces to the ceiling", "it melts", "it grows bigger"]),
    ("If you leave a plant without water for weeks, what most likely happens?", "it wilts and dies", ["it grows faster", "it turns blue", "it makes more flowers"]),
    ("Which of these would float on water?", "a wooden stick", ["a stone", "an iron nail", "a glass marble"]),
    ("What do you use to brush your teeth?", "a toothbrush", ["a hairbrush", "a paintbrush", "a broom"]),
    ("Where does a fish live?", "in water", ["in a tree", "in the desert", "in the clouds"]),
    ("Which animal is known for saying 'moo'?", "a cow", ["a cat", "a duck", "a dog"]),
    ("Which animal barks?", "a dog", ["a cat", "a horse", "a sheep"]),
    ("Which of these is a fruit?", "an apple", ["a carrot", "a potato", "an onion"]),
    ("Which of these is a vegetable?", "a carrot", ["a banana", "a cherry", "a grape"]),
    ("What do you call the person who flies an aeroplane?", "a pilot", ["a chef", "a farmer", "a dentist"]),
    ("Who usually teaches lessons in a school?", "a teacher", ["a pilot", "a plumber", "a baker"]),
    ("What do you use to call someone far away?", "a telephone", ["a kettle", "a ladder", "a pillow"]),
    ("What is the opposite of 'hot'?", "cold", ["warm", "big", "fast"]),
    ("What is the opposite of 'up'?", "down", ["over", "left", "high"]),
    ("What is the opposite of 'empty'?", "full", ["small", "open", "light"]),
    ("Which of these is the heaviest?", "an elephant", ["a mouse", "a cat", "a rabbit"]),
    ("Which of these moves the fastest?", "an aeroplane", ["a bicycle", "a snail", "a person walking"]),
    ("What do you need to bake bread?", "flour", ["sand", "paper", "soap"]),
    ("What should you do if a pan on the stove catches fire?", "cover it with a lid", ["pour water on the oil", "fan the flames", "leave the kitchen and forget it"]),
    # computing and technology
    ("What does a computer mouse let you do?", "move a pointer on the screen", ["cool the computer", "print pages", "store electricity"]),
    ("Which device shows pictures from a computer?", "a monitor", ["a keyboard", "a speaker", "a microphone"]),
    ("Which device turns sound into an electrical signal?", "a microphone", ["a loudspeaker", "a monitor", "a printer"]),
    ("How many bits are there in a byte?", "eight", ["two", "four", "sixteen"]),
    ("Which number system do computers use at the lowest level?", "binary", ["Roman numerals", "base twelve", "tally marks"]),
    ("What is the binary number 101 in decimal?", "5", ["3", "6", "101"]),
]

# Templated families: (question template, right, wrongs) built from hand-written tables.
MC_CAPITALS = [
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"),
    ("Japan", "Tokyo"), ("Canada", "Ottawa"), ("Australia", "Canberra"), ("Egypt", "Cairo"),
    ("Kenya", "Nairobi"), ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Portugal", "Lisbon"),
    ("Greece", "Athens"), ("Ireland", "Dublin"), ("Poland", "Warsaw"), ("Argentina", "Buenos Aires"),
    ("Peru", "Lima"), ("Thailand", "Bangkok"), ("South Korea", "Seoul"), ("Austria", "Vienna"),
]
MC_SYMBOLS = [
    ("hydrogen", "H"), ("oxygen", "O"), ("carbon", "C"), ("nitrogen", "N"), ("sodium", "Na"),
    ("iron", "Fe"), ("gold", "Au"), ("silver", "Ag"), ("helium", "He"), ("calcium", "Ca"),
    ("potassium", "K"), ("copper", "Cu"),
]
MC_OPPOSITES = [
    ("early", "late"), ("wide", "narrow"), ("ancient", "modern"), ("rough", "smooth"),
    ("generous", "selfish"), ("shallow", "deep"), ("quiet", "loud"), ("heavy", "light"),
    ("arrive", "leave"), ("remember", "forget"), ("victory", "defeat"), ("brave", "cowardly"),
]
MC_ANIMAL_HOMES = [
    ("a bee", "a hive"), ("a bird", "a nest"), ("a spider", "a web"), ("a rabbit", "a burrow"),
    ("a beaver", "a lodge"), ("a horse", "a stable"), ("a dog", "a kennel"), ("a pig", "a sty"),
]


def mc_arithmetic(rng: random.Random) -> list[tuple[str, str, list[str]]]:
    out: list[tuple[str, str, list[str]]] = []
    seen: set[str] = set()

    def add(q: str, right: int, wrong: list[int]) -> bool:
        if q in seen:
            return False
        seen.add(q)
        out.append((q, str(right), [str(w) for w in wrong]))
        return True

    n = 0
    while n < 12:
        a, b = rng.randint(12, 89), rng.randint(11, 79)
        right = a + b
        wrong = rng.sample([right - 10, right + 10, right - 1, right + 1, right + 2, right - 2], 3)
        n += add(f"What is {a} plus {b}?", right, wrong)
    n = 0
    while n < 10:
        a, b = rng.randint(3, 12), rng.randint(3, 12)
        right = a * b
        wrong = sorted({right + a, right - a, right + b, right - b, right + 1} - {right})
        n += add(f"What is {a} times {b}?", right, rng.sample(wrong, 3))
    n = 0
    while n < 6:
        b, q = rng.randint(2, 9), rng.randint(3, 12)
        wrong = sorted({q + 1, q - 1, q + 2, b} - {q})
        n += add(f"What is {b * q} divided by {b}?", q, rng.sample(wrong, 3))
    return out


def mc_questions() -> list[tuple[str, str, list[str]]]:
    rng = random.Random(SEED + 4)
    qs = list(MC_WRITTEN)
    cities = [c for _, c in MC_CAPITALS]
    for country, city in MC_CAPITALS:
        qs.append((f"What is the capital of {country}?", city, rng.sample([c for c in cities if c != city], 3)))
    symbols = [s for _, s in MC_SYMBOLS]
    for element, sym in MC_SYMBOLS:
        qs.append((f"What is the chemical symbol for {element}?", sym, rng.sample([s for s in symbols if s != sym], 3)))
    words = [w for pair in MC_OPPOSITES for w in pair]
    for word, opp in MC_OPPOSITES:
        wrong = [w for w in words if w not in (word, opp)]
        qs.append((f"What is the opposite of '{word}'?", opp, rng.sample(wrong, 3)))
    homes = [h for _, h in MC_ANIMAL_HOMES]
    for animal, home in MC_ANIMAL_HOMES:
        qs.append((f"What is the home of {animal} usually called?", home, rng.sample([h for h in homes if h != home], 3)))
    qs += mc_arithmetic(rng)
    return qs


def mc_rows() -> list[dict]:
    rng = random.Random(SEED + 5)
    rows = []
    for question, right, wrong in mc_questions():
        choices = [right, *wrong]
        rng.shuffle(choices)
        rows.append({"question": question, "choices": choices, "answer": choices.index(right)})
    rng.shuffle(rows)
    return rows


def check_mc(rows: list[dict]) -> str:
    name = MC_FILE
    seen: set[str] = set()
    answers = Counter()
    for n, row in enumerate(rows, start=1):
        need(set(row) == {"question", "choices", "answer"}, f"{name}:{n}: fields {sorted(row)}")
        need(nonempty_str(row["question"]), f"{name}:{n}: question must be a non-empty trimmed string")
        need(row["question"] not in seen, f"{name}:{n}: duplicate question")
        seen.add(row["question"])
        choices = row["choices"]
        need(isinstance(choices, list) and len(choices) == 4, f"{name}:{n}: want 4 choices")
        need(all(nonempty_str(c) for c in choices), f"{name}:{n}: choices must be non-empty strings")
        need(len(set(choices)) == 4, f"{name}:{n}: duplicate choices {choices}")
        need(isinstance(row["answer"], int) and 0 <= row["answer"] < 4, f"{name}:{n}: answer out of range")
        answers[row["answer"]] += 1
    need(180 <= len(rows) <= 260, f"{name}: {len(rows)} questions, want about 200")
    need(min(answers.values()) >= len(rows) // 8, f"{name}: answer positions unbalanced {dict(answers)}")
    return f"{len(rows)} questions, answers by position {dict(sorted(answers.items()))}"


# --------------------------------------------------------------------------------------------
# Output, README and checks
# --------------------------------------------------------------------------------------------


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def bucket(score: float) -> str:
    if score >= 4.5:
        return "paraphrase (4.5-5)"
    if score >= 2.5:
        return "changed detail (2.5-4.4)"
    if score >= 1.0:
        return "same domain, different claim (1-2.4)"
    return "unrelated (0-0.9)"


BUCKETS = [
    "paraphrase (4.5-5)",
    "changed detail (2.5-4.4)",
    "same domain, different claim (1-2.4)",
    "unrelated (0-0.9)",
]


def word_count(text: str) -> int:
    return len(text.split())


def readme(
    sim: list[dict],
    cls: list[dict],
    gen: list[dict],
    summ: list[dict],
    qa: list[dict],
    mc: list[dict],
) -> str:
    buckets = Counter(bucket(r["score"]) for r in sim)
    bucket_lines = "\n".join(f"| {b} | {buckets[b]} |" for b in BUCKETS)
    per_label = Counter((r["label"], r["split"]) for r in cls)
    label_lines = "\n".join(
        f"| `{label}` | {per_label[(label, 'train')]} | {per_label[(label, 'test')]} |"
        f" {per_label[(label, 'train')] + per_label[(label, 'test')]} |"
        for label in LABELS
    )
    n_train = sum(1 for r in cls if r["split"] == "train")
    n_test = len(cls) - n_train
    lengths = [word_count(r["prompt"]) for r in gen]
    n_chat = sum(1 for r in gen if "messages" in r)
    doc_words = [word_count(r["document"]) for r in summ]
    sum_words = [word_count(r["summary"]) for r in summ]
    n_answers = sum(len(r["answers"]) for r in qa)
    return f"""# Datasets

The default datasets that `frugalbench run` scores models on. They are **synthetic**: every
sentence was written for this project, either by hand or composed by
[`scripts/make_datasets.py`](../scripts/make_datasets.py) from hand-written parts with a fixed
random seed. No existing corpus was copied. The script uses only the Python standard library;
re-running it reproduces these files byte for byte:

```sh
python3 scripts/make_datasets.py           # rewrite the files below
python3 scripts/make_datasets.py --check   # validate them and check they are up to date
```

Every file is JSON Lines (UTF-8, one JSON object per line). Licence: Apache-2.0, the same as
the project.

## `sentence-similarity.jsonl` ({len(sim)} pairs)

Fields: `sentence1` (string), `sentence2` (string), `score` (number, 0-5, gold similarity on
the STS scale: 5 = same meaning, 0 = unrelated). Scored with Spearman correlation between the
model's cosine similarity and `score`.

Pairs cover sixteen everyday domains (cooking, sport, weather, travel, science, work, animals,
music, computing, health, home, shopping, education, transport, gardening, arts). Scores were
assigned by hand for the written pairs; the unrelated pairs are drawn by the script from
sentences of unrelated domains that share no content word, and score 0. Order and the side each
sentence appears on are shuffled with a fixed seed.

| bucket | pairs |
| --- | --- |
{bucket_lines}

## `text-classification.jsonl` ({len(cls)} rows)

Fields: `text` (string, a short quote), `label` (string, one of the eight below), `split`
(`train` or `test`). An eight-label climate-claim set in the spirit of the Frugal AI
Challenge's text task: {n_train} train rows and {n_test} test rows, stratified per label.
Scored with accuracy and macro-F1 on the `test` rows; the `train` rows are what a runner may fit
a classification head on.

| label | train | test | total |
| --- | --- | --- | --- |
{label_lines}

Rows are made from templates with interchangeable phrases. Train and test rows of a label come
from **disjoint sets of templates**, so a test row is never a reworded copy of a train row.
`0_not_relevant` rows are neutral climate- and energy-adjacent news or policy statements that
make no contrarian claim.

**Note:** the quotes in labels `1_` to `7_` are contrarian claims *by design*, because
recognising them is the task. They are synthetic examples of claim types for benchmarking, not
statements of fact, and they are not quotes from real people.

## `text-generation.jsonl` ({len(gen)} prompts)

Fields: `prompt` (string) and, for {n_chat} of the rows, `messages` (a list of
`{{"role": "system" | "user", "content": string}}`: a system prompt followed by the user turn).
When `messages` is present, `prompt` holds the same text as the user turn, so a runner may use
either form. Prompts are
{min(lengths)} to {max(lengths)} words long (median {int(statistics.median(lengths))}).

Tasks: factual and everyday questions, explain-like-I'm-five requests, summaries of short
paragraphs (the paragraphs are included and were written for this project), haiku, translation
of short French, Spanish, German, Italian, Portuguese and Dutch sentences into English,
step-by-step instructions, short programming questions, definitions, rewriting, arithmetic and
short writing tasks. All of them ask for an English answer that can start straight away, since
the default model generates only a few tokens per prompt. Not the default text-generation set
any more (that is `text-generation-mc.jsonl`); run it with
`--dataset datasets/text-generation.jsonl`. Its quality figure is only `non_empty_output_rate`.

## `text-generation-mc.jsonl` ({len(mc)} questions, the default text-generation set)

Fields: `question` (string), `choices` (four strings), `answer` (0-based index of the right
choice). Four-choice questions of general knowledge, elementary science, geography, common
sense, word meaning, arithmetic and computing basics, written for this project (no question was
copied from an existing benchmark such as ARC or HellaSwag). About 120 were written one by one;
the rest come from small hand-written tables (capitals, chemical symbols, opposites, animal
homes) and from arithmetic drawn with a fixed seed, their wrong choices picked from the same
table. The right choice's position is shuffled with a fixed seed.

The question is the generation prompt (the metered protocol is unchanged: prompt, then exactly
`max_new_tokens` new tokens). After metering, an un-metered pass scores each question by
log-likelihood, as lm-evaluation-harness does: the context `Question: <question>\nAnswer:`,
each choice as the continuation ` <choice>`, the sum of the choice's token log-probabilities;
the quality is `mc_accuracy` (highest sum) with `mc_accuracy_norm` (sum divided by the
continuation's UTF-8 bytes) beside it. Chance is 0.25. The same fields in any JSONL or CSV file
given with `--dataset` (e.g. ARC-Easy converted to `question`/`choices`/`answer`) are scored the
same way.

## `summarization.jsonl` ({len(summ)} documents)

Fields: `document` (string), `summary` (string, the reference). Short news-style items about
fictional towns, people and organisations, {min(doc_words)} to {max(doc_words)} words long, each
with a one-sentence reference summary of {min(sum_words)} to {max(sum_words)} words; documents
and summaries were both written by hand for this project. Scored with ROUGE-L F-measure
(ROUGE-1 and ROUGE-2 beside it; `rouge-score`'s tokenisation, no stemmer). T5-style models get
the input `summarize: <document>`; give `--max-new-tokens 40` or so, since the default (10)
cuts summaries short.

## `question-answering.jsonl` ({len(qa)} questions)

Fields: `context` (string, one to three sentences), `question` (string), `answers` (list of
strings, {n_answers} in all: every acceptable answer, each an exact span of the context, as in
SQuAD). Written by hand for this project. Scored with SQuAD's F1 and exact match (answers
normalised: lower case, no punctuation, no articles), the best over a question's answers.
"""


def build() -> dict[str, str]:
    """File name -> exact file content."""
    sim = similarity_rows()
    cls = classification_rows()
    gen = generation_rows()
    summ = summarization_rows()
    qa = qa_rows()
    mc = mc_rows()
    return {
        SIMILARITY_FILE: to_jsonl(sim),
        CLASSIFICATION_FILE: to_jsonl(cls),
        GENERATION_FILE: to_jsonl(gen),
        SUMMARIZATION_FILE: to_jsonl(summ),
        QA_FILE: to_jsonl(qa),
        MC_FILE: to_jsonl(mc),
        README_FILE: readme(sim, cls, gen, summ, qa, mc),
    }


class CheckFailed(Exception):
    pass


def load_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise CheckFailed(f"{path.name}:{n}: invalid JSON: {e}") from None
            if not isinstance(row, dict):
                raise CheckFailed(f"{path.name}:{n}: expected a JSON object")
            rows.append(row)
    return rows


def need(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def nonempty_str(value) -> bool:
    return isinstance(value, str) and value.strip() == value and value != ""


def check_similarity(rows: list[dict]) -> str:
    name = SIMILARITY_FILE
    seen: set[frozenset] = set()
    for n, row in enumerate(rows, start=1):
        need(set(row) == {"sentence1", "sentence2", "score"}, f"{name}:{n}: fields {sorted(row)}")
        s1, s2, score = row["sentence1"], row["sentence2"], row["score"]
        need(nonempty_str(s1) and nonempty_str(s2), f"{name}:{n}: sentences must be non-empty trimmed strings")
        need(s1 != s2, f"{name}:{n}: sentence1 equals sentence2")
        need(isinstance(score, (int, float)) and not isinstance(score, bool), f"{name}:{n}: score is not a number")
        need(0.0 <= score <= 5.0, f"{name}:{n}: score {score} outside 0-5")
        key = frozenset((s1, s2))
        need(key not in seen, f"{name}:{n}: duplicate pair")
        seen.add(key)
    need(len(rows) >= 240, f"{name}: {len(rows)} pairs, want at least 240")
    buckets = Counter(bucket(r["score"]) for r in rows)
    for b in BUCKETS:
        need(buckets[b] >= len(rows) // 8, f"{name}: only {buckets[b]} pairs in bucket {b}")
    return f"{len(rows)} pairs; " + ", ".join(f"{b}: {buckets[b]}" for b in BUCKETS)


def jaccard(a: str, b: str) -> float:
    wa = set(re.findall(r"[a-z0-9']+", a.lower()))
    wb = set(re.findall(r"[a-z0-9']+", b.lower()))
    return len(wa & wb) / len(wa | wb)


NEAR_DUPLICATE = 0.5  # word-set Jaccard above which a test row is "a copy" of a train row


def check_classification(rows: list[dict]) -> str:
    name = CLASSIFICATION_FILE
    texts: set[str] = set()
    for n, row in enumerate(rows, start=1):
        need(set(row) == {"text", "label", "split"}, f"{name}:{n}: fields {sorted(row)}")
        need(nonempty_str(row["text"]), f"{name}:{n}: text must be a non-empty trimmed string")
        need(row["label"] in LABELS, f"{name}:{n}: unknown label {row['label']!r}")
        need(row["split"] in ("train", "test"), f"{name}:{n}: split must be train or test")
        need(row["text"] not in texts, f"{name}:{n}: duplicate text")
        texts.add(row["text"])
    need(380 <= len(rows) <= 420, f"{name}: {len(rows)} rows, want about 400")
    counts = Counter((r["label"], r["split"]) for r in rows)
    for label in LABELS:
        total = counts[(label, "train")] + counts[(label, "test")]
        need(45 <= total <= 55, f"{name}: {label} has {total} rows, want about 50")
        share = counts[(label, "test")] / total
        need(0.25 <= share <= 0.35, f"{name}: {label} test share {share:.2f}, want about 0.30")
    train = [r["text"] for r in rows if r["split"] == "train"]
    test = [r["text"] for r in rows if r["split"] == "test"]
    worst = max((jaccard(t, u), t, u) for t in test for u in train)
    need(
        worst[0] <= NEAR_DUPLICATE,
        f"{name}: test row {worst[1]!r} is a near-duplicate of train row {worst[2]!r} (Jaccard {worst[0]:.2f})",
    )
    return (
        f"{len(rows)} rows ({len(train)} train, {len(test)} test), 8 labels x 50; "
        f"max train/test word overlap (Jaccard) {worst[0]:.2f}"
    )


def check_generation(rows: list[dict]) -> str:
    name = GENERATION_FILE
    prompts: set[str] = set()
    chat = 0
    for n, row in enumerate(rows, start=1):
        need(set(row) in ({"prompt"}, {"prompt", "messages"}), f"{name}:{n}: fields {sorted(row)}")
        prompt = row["prompt"]
        need(nonempty_str(prompt), f"{name}:{n}: prompt must be a non-empty trimmed string")
        need(word_count(prompt) <= 130, f"{name}:{n}: prompt has {word_count(prompt)} words, want at most 130")
        need(prompt not in prompts, f"{name}:{n}: duplicate prompt")
        prompts.add(prompt)
        if "messages" in row:
            chat += 1
            messages = row["messages"]
            need(isinstance(messages, list) and len(messages) == 2, f"{name}:{n}: messages must be a list of 2")
            for m in messages:
                need(isinstance(m, dict) and set(m) == {"role", "content"}, f"{name}:{n}: bad message {m!r}")
                need(nonempty_str(m["content"]), f"{name}:{n}: message content must be a non-empty string")
            need([m["role"] for m in messages] == ["system", "user"], f"{name}:{n}: roles must be system, user")
            need(messages[1]["content"] == prompt, f"{name}:{n}: user content differs from prompt")
    need(280 <= len(rows) <= 320, f"{name}: {len(rows)} prompts, want about 300")
    need(0.28 <= chat / len(rows) <= 0.38, f"{name}: {chat} of {len(rows)} rows in chat form, want about a third")
    lengths = [word_count(r["prompt"]) for r in rows]
    need(min(lengths) <= 3 and max(lengths) >= 90, f"{name}: prompt lengths {min(lengths)}-{max(lengths)} not varied enough")
    return f"{len(rows)} prompts ({chat} with messages), {min(lengths)}-{max(lengths)} words"


def check_summarization(rows: list[dict]) -> str:
    name = SUMMARIZATION_FILE
    docs: set[str] = set()
    for n, row in enumerate(rows, start=1):
        need(set(row) == {"document", "summary"}, f"{name}:{n}: fields {sorted(row)}")
        doc, summary = row["document"], row["summary"]
        need(nonempty_str(doc) and nonempty_str(summary), f"{name}:{n}: fields must be non-empty trimmed strings")
        need(word_count(summary) < word_count(doc) / 2, f"{name}:{n}: the summary is not much shorter than the document")
        need(doc not in docs, f"{name}:{n}: duplicate document")
        docs.add(doc)
    need(25 <= len(rows) <= 40, f"{name}: {len(rows)} rows, want about 30")
    return f"{len(rows)} documents"


def check_qa(rows: list[dict]) -> str:
    name = QA_FILE
    for n, row in enumerate(rows, start=1):
        need(set(row) == {"context", "question", "answers"}, f"{name}:{n}: fields {sorted(row)}")
        need(nonempty_str(row["context"]) and nonempty_str(row["question"]), f"{name}:{n}: context and question must be non-empty trimmed strings")
        answers = row["answers"]
        need(isinstance(answers, list) and answers, f"{name}:{n}: answers must be a non-empty list")
        for a in answers:
            need(nonempty_str(a), f"{name}:{n}: answer {a!r} must be a non-empty trimmed string")
            need(a in row["context"], f"{name}:{n}: answer {a!r} is not a span of the context")
    need(25 <= len(rows) <= 40, f"{name}: {len(rows)} rows, want about 30")
    return f"{len(rows)} questions, {sum(len(r['answers']) for r in rows)} answers"


def check(out_dir: Path) -> int:
    try:
        summaries = []
        for file, checker in (
            (SIMILARITY_FILE, check_similarity),
            (CLASSIFICATION_FILE, check_classification),
            (GENERATION_FILE, check_generation),
            (SUMMARIZATION_FILE, check_summarization),
            (QA_FILE, check_qa),
            (MC_FILE, check_mc),
        ):
            path = out_dir / file
            need(path.is_file(), f"{path}: missing (run scripts/make_datasets.py)")
            summaries.append(f"{file}: {checker(load_jsonl(path))}")
        expected = build()
        for file, content in expected.items():
            path = out_dir / file
            need(path.is_file(), f"{path}: missing (run scripts/make_datasets.py)")
            need(
                path.read_bytes() == content.encode("utf-8"),
                f"{path}: differs from what the script generates (run scripts/make_datasets.py)",
            )
    except CheckFailed as e:
        print(f"check failed: {e}", file=sys.stderr)
        return 1
    for s in summaries:
        print(s)
    print("ok: all files valid and up to date")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="validate the files instead of writing them")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: datasets/)")
    args = parser.parse_args()
    if args.check:
        return check(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    for file, content in build().items():
        (args.out / file).write_bytes(content.encode("utf-8"))
        print(f"wrote {args.out / file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
