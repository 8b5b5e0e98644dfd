#!/bin/sh
# The demo campus, generated deterministically.
#   campus.sh roster   the roster CSV (300 people)
#   campus.sh north    the north gate's morning (scan lines)
#   campus.sh south    the south gate's morning
set -eu
awk -v what="$1" '
BEGIN {
  split("Zhang Wang Li Zhao Liu Chen Yang Huang Zhou Wu Xu Sun Ma Zhu Hu Guo He Lin Luo Gao", sn, " ")
  split("Wei Fang Na Min Jing Li Qiang Lei Jun Yang Yong Yan Jie Tao Ming Chao Xiu Xia Ping Gang", gn, " ")
  if (what == "roster") {
    print "external_id,name,category,cohort,credential,active,valid_until"
    for (i = 1; i <= 40; i++) {
      cohort = (i <= 12) ? "resident-staff;canteen-staff" : "resident-staff"
      printf "T%03d,%s %s,resident_staff,%s,CARD-T%03d,,\n", i, sn[(i*7)%20+1], gn[(i*3)%20+1], cohort, i
    }
    for (i = 1; i <= 256; i++) {
      cohort = (i % 2) ? "dorm-a" : "dorm-b"
      if (i % 10 == 0) cohort = cohort ";chem-college"
      printf "S%04d,%s %s,student,%s,CARD-S%04d,,2027-07-01\n", i, sn[(i*11)%20+1], gn[(i*13)%20+1], cohort, i
    }
    print "S9001,Gao Ming,student,dorm-a,CARD-S9001,false,"
    print "V001,Visitor Zhao Lei,single_visit,,CARD-V001,,"
    print "C001,Delivery Wu Tao,contractor,,CARD-C001,,"
    print "S9002,Lin Jun,student,dorm-b,CARD-S9002,,"
    exit
  }
  # Staff arrive, students return to the dormitories, then the incidents.
  base = (what == "north") ? 1 : 2
  for (i = base; i <= 40; i += 4) printf "CARD-T%03d in\n", i
  for (i = base; i <= 256; i += 8) printf "CARD-S%04d in\n", i
  if (what == "north") {
    print "CARD-T007 in"        # home isolation: denied
    print "CARD-V001 in"        # the visitor, on a pass
    print "CARD-X99999 in"      # a card nobody issued
    print "CARD-S0001 in"       # anti-passback: already inside
    print "CARD-S9001 in"       # graduated, deactivated
    print "CARD-C001 in"        # a delivery without a pass
    print "CARD-V001 out"       # the visitor leaves: pass used up
    print "CARD-V001 in"        # and cannot come back on it
  } else {
    print "CARD-S9002 out"      # never seen entering: a wall was climbed
    for (i = base; i <= 40; i += 8) printf "CARD-T%03d out\n", i
  }
}'
